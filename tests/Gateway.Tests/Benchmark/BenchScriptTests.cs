using System.Diagnostics;
using System.Text.Json;
using TestInfrastructure;

namespace Gateway.Tests.Benchmark;

[CollectionDefinition(nameof(BenchScriptCollection), DisableParallelization = true)]
public sealed class BenchScriptCollection;

/// <summary>
/// Runs scripts/bench.sh --short (a few seconds per scenario) so the benchmark cannot silently rot. It checks that every
/// scenario ran and produced numbers, never how fast they are: speed is read from the full benchmark, not from a test.
/// Alone in its collection, so its load does not disturb tests that run in parallel.
/// </summary>
[Collection(nameof(BenchScriptCollection))]
public sealed class BenchScriptTests
{
    [Fact]
    public async Task ShortBenchmark_RunsEveryScenario_AndWritesNumbers()
    {
        var psi = new ProcessStartInfo("bash") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("scripts/bench.sh");
        psi.ArgumentList.Add("--short");
        psi.ArgumentList.Add("--rounds");   // two rounds, so the paired rounds have an interval
        psi.ArgumentList.Add("2");
        using var bench = Process.Start(psi)!;
        var stdout = bench.StandardOutput.ReadToEndAsync();
        var stderr = bench.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        try { await bench.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { bench.Kill(entireProcessTree: true); throw; }
        string output = await stdout + await stderr;
        Assert.True(bench.ExitCode == 0, $"bench.sh --short exited {bench.ExitCode}:\n{output[^Math.Min(output.Length, 4000)..]}");

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(RepoPaths.Combine(".local", "bench", "results.json")));
        var scenarios = json.RootElement.GetProperty("scenarios").EnumerateArray().ToList();
        foreach (var prefix in new[] { "(1)", "(2)", "(3)", "(3b)", "(4)", "(2h1)", "(3h1)", "(5)", "(B)", "(6)", "(P1)", "(P2)", "(P3)", "(P4)", "(P5)", "(P6)" })
        {
            var s = scenarios.SingleOrDefault(x => x.GetProperty("name").GetString()!.StartsWith(prefix + " ", StringComparison.Ordinal));
            Assert.True(s.ValueKind == JsonValueKind.Object, $"scenario {prefix} missing from results.json");
            Assert.True(s.GetProperty("rps").GetDouble() > 0, $"scenario {prefix} produced no throughput");
            // p99 comes as the worst round and the median round; the median cannot exceed the worst.
            double worst = s.GetProperty("p99Ms").GetDouble(), median = s.GetProperty("p99MedianRoundMs").GetDouble();
            Assert.True(median > 0 && median <= worst, $"scenario {prefix}: p99 median round {median} ms, worst round {worst} ms");
        }
        // The gateway's own rows carry its allocation per request (read from its /metrics), the most repeatable cost figure.
        var validated = scenarios.Single(x => x.GetProperty("name").GetString()!.StartsWith("(3) ", StringComparison.Ordinal));
        Assert.True(validated.GetProperty("bytesAllocatedPerRequest").GetDouble() > 0, "no allocation figure for scenario (3)");
        // And its Redis calls per request. Leased rate limits and L1 sessions keep a validated request off Redis, so this
        // is a behaviour check, not a speed one: one call per request (the old per-decision round trip) fails it.
        double redisCalls = validated.GetProperty("redisCallsPerRequest").GetDouble();
        Assert.True(redisCalls is >= 0 and < 0.5, $"scenario (3) made {redisCalls} Redis calls per request; leases and L1 should make it far below one");
        Assert.Equal(4, json.RootElement.GetProperty("sweep").GetArrayLength());
        // Each sweep step says what of the RSS the GC holds and what a request allocates at that concurrency, so an RSS
        // figure over target can be read without a second run.
        foreach (var step in json.RootElement.GetProperty("sweep").EnumerateArray())
        {
            Assert.True(step.GetProperty("gatewayRssMb").GetDouble() > 0, $"sweep step {step}: no RSS figure");
            Assert.True(step.GetProperty("gcCommittedMb").GetDouble() > 0, $"sweep step {step}: no GC committed figure");
            Assert.True(step.GetProperty("gcHeapMb").GetDouble() > 0, $"sweep step {step}: no GC heap figure");
            Assert.True(step.GetProperty("bytesAllocatedPerRequest").GetDouble() > 0, $"sweep step {step}: no allocation figure");
        }
        foreach (var ratio in json.RootElement.GetProperty("ratios").EnumerateObject())
            Assert.True(ratio.Value.GetDouble() > 0, $"ratio {ratio.Name} is not a number");
        Assert.True(json.RootElement.GetProperty("ratios").TryGetProperty("validatedOverNginxAuthRequest", out _), "no ratio against nginx auth_request");
        Assert.True(json.RootElement.GetProperty("ratios").TryGetProperty("validatedOverNginxAuthRequestNoCache", out _), "no ratio against nginx auth_request without a cache");
        // The gateway as it ships speaks h2c to the backend; the same gateway over HTTP/1.1, the peers' protocol, is beside it.
        Assert.True(json.RootElement.GetProperty("ratios").TryGetProperty("validatedHttp11OverNginxAuthRequest", out _), "no ratio of the HTTP/1.1 gateway against nginx auth_request");
        Assert.True(json.RootElement.GetProperty("ratios").TryGetProperty("anonymousHttp11OverPlainYarp", out _), "no ratio of the HTTP/1.1 gateway against plain YARP");
        // And the floor over the gateway's own protocol: the gap to it is what the gateway's stages cost.
        Assert.True(json.RootElement.GetProperty("ratios").TryGetProperty("anonymousOverForwarderFloorH2c", out _), "no ratio against the h2c forwarder floor");
        foreach (var ratio in json.RootElement.GetProperty("cpuRatios").EnumerateObject())
            Assert.True(ratio.Value.GetDouble() > 0, $"CPU ratio {ratio.Name} is not a number");
        // Each peer ratio also comes as the lowest and highest of its rounds (one round with --short: both the same).
        foreach (var range in json.RootElement.GetProperty("ratioRoundRanges").EnumerateObject())
        {
            double min = range.Value.GetProperty("min").GetDouble(), max = range.Value.GetProperty("max").GetDouble();
            Assert.True(min > 0 && max >= min, $"round range of {range.Name} is {min}-{max}");
        }
        // The targets' pairs come with the geometric mean of their paired round ratios and its 90 % interval.
        var intervals = json.RootElement.GetProperty("pairedRoundIntervals90");
        foreach (var pair in new[] { "validatedOverNginxAuthRequest", "anonymousOverPlainYarp", "anonymousOverNginxPlain", "healthOverBareKestrel" })
        {
            foreach (var metric in intervals.GetProperty(pair).EnumerateObject())
            {
                double mean = metric.Value.GetProperty("mean").GetDouble(), low = metric.Value.GetProperty("low").GetDouble(), high = metric.Value.GetProperty("high").GetDouble();
                Assert.True(low > 0 && low <= mean && mean <= high, $"interval of {pair} {metric.Name} is {mean} [{low}-{high}]");
            }
        }
        Assert.Contains("POST /auth/logout", await File.ReadAllTextAsync(RepoPaths.Combine(".local", "bench", "results.md")));
    }

    /// <summary>
    /// bench/profile/ab.sh against two bare-Kestrel apps (the benchmark's reference, built with the solution): it runs its
    /// rounds and prints each side's numbers and the ratio with its interval. Like the benchmark, checked for numbers,
    /// never for their size.
    /// </summary>
    [Fact]
    public async Task AbScript_ComparesTwoProcessesUnderOneLoad_AndPrintsTheRatioWithItsInterval()
    {
        string dll = RepoPaths.Combine("bench", "BareKestrel", "bin", "Release", "net10.0", "bare-kestrel.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution in Release first");
        int portA = FreePort.Next(), portB = FreePort.Next();
        using var a = StartBare(dll, portA);
        using var b = StartBare(dll, portB);
        try
        {
            foreach (int port in new[] { portA, portB }) await WaitUntilAnswering(port);
            var psi = new ProcessStartInfo("bash") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "bench/profile/ab.sh", "2", $"http://127.0.0.1:{portA}/", a.Id.ToString(), $"http://127.0.0.1:{portB}/", b.Id.ToString() })
                psi.ArgumentList.Add(arg);
            using var ab = Process.Start(psi)!;
            var stdout = ab.StandardOutput.ReadToEndAsync();
            var stderr = ab.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try { await ab.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { ab.Kill(entireProcessTree: true); throw; }
            string output = await stdout + await stderr;
            Assert.True(ab.ExitCode == 0, $"ab.sh exited {ab.ExitCode}:\n{output}");

            var rounds = output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^[12]\s")).ToList();
            Assert.Equal(2, rounds.Count);
            foreach (var round in rounds)
            {
                var f = round.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(5).Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                Assert.True(f.All(x => x > 0), $"a round without numbers: {round}");
            }
            var ratio = System.Text.RegularExpressions.Regex.Match(output, @"B/A CPU per request: ([0-9.]+) \[([0-9.]+)-([0-9.]+)\]");
            Assert.True(ratio.Success, $"no ratio line:\n{output}");
            double mean = double.Parse(ratio.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            double low = double.Parse(ratio.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            double high = double.Parse(ratio.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(low > 0 && low <= mean && mean <= high, $"ratio {mean} [{low}-{high}]");
        }
        finally
        {
            foreach (var p in new[] { a, b }) if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    private static Process StartBare(string dll, int port)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--body", "{\"status\":\"ok\"}" }) psi.ArgumentList.Add(arg);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilAnswering(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (int i = 0; i < 150; i++)
        {
            try { if ((await client.GetAsync($"http://127.0.0.1:{port}/")).IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        Assert.Fail($"bare Kestrel on {port} did not answer");
    }
}
