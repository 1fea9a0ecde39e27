using System.Text;
using Gateway.Identity;
using Gateway.Pipeline;
using Gateway.Routing;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Gateway.Trust;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hostile;

/// <summary>
/// In-process fuzzing with fixed seeds (a failure replays exactly): thousands of random inputs through the token
/// format check, the session stage, the route-class file validator, the identity header hygiene and the path
/// normaliser. Nothing may throw, and each answer must be one of the defined ones.
/// </summary>
public sealed class FuzzTests
{
    private const string TokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Characters that matter to parsers: separators, quotes, escapes, whitespace, controls, non-ASCII, a surrogate half.
    private const string Nasty = " \t\r\n\0\"'\\/;,=:%{}[]<>.+*?#&\u00e9\u00ff\u0100\u200b\ud800\ufeff\uffff";

    [Fact]
    public void TokenFormatCheck_RandomInput_NeverThrows_AndAcceptsOnlyExactTokens()
    {
        var random = new Random(20261125);
        for (int i = 0; i < 50_000; i++)
        {
            string candidate = RandomToken(random);
            if (!SessionToken.IsWellFormed(candidate)) continue;
            Assert.Equal(SessionToken.Length, candidate.Length);
            Assert.All(candidate, c => Assert.Contains(c, TokenAlphabet));
            Assert.Equal(SessionToken.HashHexLength, SessionToken.Hash(candidate).Length);
            Assert.Equal(SessionToken.Hash(candidate), TokenHash.Compute(candidate).ToHex());
        }
    }

    [Fact]
    public async Task SessionStage_RandomCredentials_AnswerIs400Or401Or429_NeverThrows_NeverPassesThrough()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp());
        var cls = gateway.Get<IRouteTable>().Current.Classes["critical-auth"];
        bool passed = false;
        var middleware = ActivatorUtilities.CreateInstance<SessionValidationMiddleware>(gateway.Services,
            (RequestDelegate)(_ => { passed = true; return Task.CompletedTask; }));
        var random = new Random(7);
        int wellFormed = 0;

        for (int i = 0; i < 3_000; i++)
        {
            var context = new DefaultHttpContext { RequestServices = gateway.Services };
            context.Response.Body = new MemoryStream();
            context.Features.Set(cls);
            context.Features.Set(new GatewayRequestFeature { Class = cls });
            context.Request.Path = "/users/me";
            // A real request always has a method; GET keeps cookie cases on the token path (a cookie POST without
            // Origin is refused by the CSRF check before any token handling: Browsers/CsrfTests).
            context.Request.Method = "GET";
            string token = RandomToken(random);
            if (SessionToken.IsWellFormed(token)) wellFormed++;
            switch (random.Next(5))
            {
                case 0: context.Request.Headers.Authorization = "Bearer " + token; break;
                case 1: context.Request.Headers.Authorization = RandomString(random, 0, 80); break;
                case 2: context.Request.Headers.Authorization = new(["Bearer " + token, RandomString(random, 0, 10)]); break;
                case 3: context.Request.Headers.Cookie = "session=" + token; break;
                default: context.Request.QueryString = new QueryString("?access_token=" + Uri.EscapeDataString(token)); break;
            }

            await middleware.Invoke(context);

            Assert.False(passed, $"case {i}: an unknown credential reached the next stage");
            // 429: the unknown-token budget of this (address-less, so shared) client is spent.
            Assert.True(context.Response.StatusCode is 400 or 401 or 429, $"case {i}: status {context.Response.StatusCode}");
        }
        // Only tokens that pass the format check may cost an introspection call (this session backend knows none),
        // and no more of them than the client's unknown-token budget.
        int budget = gateway.Get<IOptions<InvalidTokenBudgetOptions>>().Value.Limit;
        Assert.True(backend.IntrospectionCount <= Math.Min(wellFormed, budget),
            $"{backend.IntrospectionCount} introspections for {wellFormed} well-formed tokens and a budget of {budget}");
    }

    [Fact]
    public void RouteClassFile_RandomMutations_OnlyEverReturnValidationErrors()
    {
        string shipped = File.ReadAllText(RouteFiles.ShippedPath);
        var random = new Random(42);
        int valid = 0;
        for (int i = 0; i < 3_000; i++)
        {
            string text = shipped;
            for (int m = random.Next(1, 4); m > 0; m--) text = Mutate(random, text);

            IReadOnlyList<string> errors;
            RouteClassSnapshot? snapshot;
            try { errors = RouteClassFileParser.Parse(text, out snapshot); }
            catch (Exception ex) { throw new Xunit.Sdk.XunitException($"case {i} threw {ex.GetType().Name}: {ex.Message}\n{text}"); }

            Assert.True((snapshot is null) == (errors.Count > 0), $"case {i}: a snapshot must come with no errors, and errors with no snapshot");
            Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e)));
            if (snapshot is null) continue;
            valid++;
            // What the validator accepts must also build into proxy config without surprises.
            ProxyConfigBuilder.Routes(snapshot);
            ProxyConfigBuilder.Clusters(snapshot, "http://127.0.0.1:1/");
        }
        Assert.InRange(valid, 1, 2_999);   // the mutations are neither all fatal nor all harmless
    }

    [Fact]
    public async Task IdentityHygiene_RandomHeaders_NoIdentityHeaderSurvives()
    {
        var errors = RouteClassFileParser.Parse(File.ReadAllText(RouteFiles.ShippedPath).Replace("\"additional\": []", "\"additional\": [\"X-Tenant-Id\"]"), out var snapshot);
        Assert.Empty(errors);
        var middleware = new IdentityHeaderHygieneMiddleware(_ => Task.CompletedTask, new FixedRouteTable(snapshot!),
            Options.Create(new IdentityHeaderOptions { Additional = ["X-Api-Principal"] }),
            new Gateway.RateLimiting.TrustedProxies(Options.Create(new Gateway.RateLimiting.RateLimitingOptions())));
        string[] identity = [.. IdentityHeaderMatcher.BuiltIn, "X-Gateway-Secret", "X-Gateway-", "X-Tenant-Id", "X-Api-Principal"];
        var random = new Random(1234);

        for (int i = 0; i < 5_000; i++)
        {
            var context = new DefaultHttpContext();
            for (int h = random.Next(1, 12); h > 0; h--)
            {
                string name = random.Next(3) == 0 ? RandomString(random, 1, 20) : Respell(random, identity[random.Next(identity.Length)]);
                context.Request.Headers[name] = RandomString(random, 0, 30);
            }

            await middleware.Invoke(context);

            foreach (var header in context.Request.Headers)
            {
                string loose = header.Key.Replace('_', '-');
                Assert.False(loose.StartsWith("X-Gateway-", StringComparison.OrdinalIgnoreCase)
                    || Array.Exists(identity, n => n.Equals(loose, StringComparison.OrdinalIgnoreCase)), $"case {i}: '{header.Key}' survived");
            }
            Assert.NotEqual(500, context.Response.StatusCode);
        }
    }

    [Fact]
    public void PathNormaliser_RandomPaths_NeverThrows_AndWhatPassesIsUnambiguous()
    {
        var random = new Random(99);
        string[] pieces = ["/", "//", ".", "..", "auth", "public", "%2F", "%", "\\", ";", "..;", "a", "\u00e9", "\0", "\n"];
        for (int i = 0; i < 20_000; i++)
        {
            var sb = new StringBuilder("/");
            for (int p = random.Next(1, 10); p > 0; p--) sb.Append(pieces[random.Next(pieces.Length)]);
            string path = sb.ToString();

            var shape = PathNormalisationMiddleware.Inspect(path);
            if (shape == PathNormalisationMiddleware.PathShape.Ambiguous) continue;
            string result = shape == PathNormalisationMiddleware.PathShape.EmptySegments ? PathNormalisationMiddleware.MergeSlashes(path) : path;
            Assert.DoesNotContain("//", result);
            Assert.True(result.AsSpan().IndexOfAny("%\\\0\n") < 0, $"case {i}: '{path}' passed");
            Assert.DoesNotContain("/..;", result);
            Assert.Equal(PathNormalisationMiddleware.PathShape.Clean, PathNormalisationMiddleware.Inspect(result));
        }
    }

    /// <summary>Mostly near-tokens (right alphabet, wrong length or one odd char), some well-formed, some garbage.</summary>
    private static string RandomToken(Random random)
    {
        var chars = new char[random.Next(3) == 0 ? SessionToken.Length : random.Next(0, 120)];
        for (int i = 0; i < chars.Length; i++) chars[i] = TokenAlphabet[random.Next(TokenAlphabet.Length)];
        if (chars.Length > 0 && random.Next(2) == 0) chars[random.Next(chars.Length)] = Nasty[random.Next(Nasty.Length)];
        return new string(chars);
    }

    private static string RandomString(Random random, int min, int max)
    {
        var chars = new char[random.Next(min, max + 1)];
        for (int i = 0; i < chars.Length; i++)
            chars[i] = random.Next(4) == 0 ? Nasty[random.Next(Nasty.Length)] : (char)random.Next(0x21, 0x7f);
        return new string(chars);
    }

    /// <summary>The same header name as a client might spell it: any case, '-' and '_' swapped.</summary>
    private static string Respell(Random random, string name)
    {
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (chars[i] == '-' && random.Next(2) == 0) chars[i] = '_';
            else if (random.Next(2) == 0) chars[i] = char.IsUpper(chars[i]) ? char.ToLowerInvariant(chars[i]) : char.ToUpperInvariant(chars[i]);
        }
        string spelled = new(chars);
        // Anything after the X-Gateway- prefix is still an identity header.
        return name.EndsWith('-') ? spelled + RandomString(random, 0, 6).Replace(":", "") : spelled;
    }

    /// <summary>One structural or lexical edit to JSON text: delete, duplicate, insert a nasty char, or swap a value.</summary>
    private static string Mutate(Random random, string text)
    {
        int at = random.Next(text.Length);
        int length = Math.Min(random.Next(1, 20), text.Length - at);
        string[] values = ["-1", "0", "1e309", "9999999999999", "0.5", "null", "true", "[]", "{}", "\"\"", "\"/{**x}\"", "\"/internal/x\"",
            "\"role:root\"", "\"{\"", "\"/a/{id}/{id}\"", "\"x\"", "\"/a/{**r}/b\"", "\"http://\"", "\"GET\"", "\"/\""];
        return random.Next(6) switch
        {
            0 => text.Remove(at, length),
            1 => text.Insert(at, text.Substring(at, length)),
            2 => text.Insert(at, Nasty[random.Next(Nasty.Length)].ToString()),
            3 => text.Insert(at, values[random.Next(values.Length)]),
            _ => ReplaceValue(random, text, values),
        };
    }

    /// <summary>Replaces the value after a random ':' (string, number or literal) with a hostile one.</summary>
    private static string ReplaceValue(Random random, string text, string[] values)
    {
        int colon = text.IndexOf(':', random.Next(text.Length));
        if (colon < 0) return text;
        int start = colon + 1;
        while (start < text.Length && text[start] == ' ') start++;
        int end = start;
        if (end < text.Length && text[end] == '"') end = Math.Max(text.IndexOf('"', end + 1) + 1, end + 1);
        else while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] is '.' or '-')) end++;
        return text[..start] + values[random.Next(values.Length)] + text[end..];
    }

    private sealed class FixedRouteTable(RouteClassSnapshot snapshot) : IRouteTable
    {
        public RouteClassSnapshot Current => snapshot;
        public ConfigReloadStatus LastReload => throw new NotSupportedException();
        public event Action<RouteClassSnapshot>? Changed { add { } remove { } }
    }
}
