using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Options;

// cache-at-capacity PATH/gateway.dll: µs per store into the gateway's L1 session cache as it fills to its bound
// (100,000) and past it, and into the response cache's L1 while it is full. The classes are internal, so they are
// reached by reflection; the invocation costs ~1-2 µs of each figure, the same for every build.
if (args.Length != 1 || !File.Exists(args[0])) { Console.Error.WriteLine("usage: cache-at-capacity PATH/gateway.dll"); return 2; }
var asm = Assembly.LoadFrom(args[0]);
var contracts = Assembly.LoadFrom(Path.Combine(Path.GetDirectoryName(args[0]), "Gateway.Contracts.dll"));
var optsType = asm.GetType("Gateway.Sessions.SessionOptions");
var opts = Activator.CreateInstance(optsType);
optsType.GetProperty("L1MaxEntries").SetValue(opts, 100_000);
var iopts = typeof(Options).GetMethod("Create").MakeGenericMethod(optsType).Invoke(null, [opts]);
var cacheType = asm.GetType("Gateway.Sessions.L1SessionCache");
var cache = Activator.CreateInstance(cacheType, iopts);
var tryParse = asm.GetType("Gateway.Sessions.TokenHash").GetMethod("TryParseHex");
var setPositive = cacheType.GetMethod("SetPositive");
var principalType = contracts.GetType("Gateway.Contracts.SessionPrincipal");
var now = DateTimeOffset.UtcNow;
var ctor = principalType.GetConstructors()[0];
object Principal(int i)
{
    var ps = ctor.GetParameters();
    var a = new object[ps.Length];
    for (int k = 0; k < ps.Length; k++)
        a[k] = ps[k].ParameterType == typeof(string) ? $"{ps[k].Name}-{i}" : ps[k].ParameterType == typeof(DateTimeOffset) ? now.AddHours(1)
             : ps[k].ParameterType.IsArray ? Array.CreateInstance(ps[k].ParameterType.GetElementType(), 0) : null;
    return ctor.Invoke(a);
}
var rnd = new Random(1);
var items = new (object hash, string hex, object principal)[160_000];
for (int i = 0; i < items.Length; i++)
{
    var b = new byte[32]; rnd.NextBytes(b); string hex = Convert.ToHexStringLower(b);
    object[] pa = [hex, null]; tryParse.Invoke(null, pa);
    items[i] = (pa[1], hex, Principal(i));
}
var sw = new Stopwatch();
for (int phase = 0; phase < 16; phase++)
{
    sw.Restart();
    for (int i = phase * 10_000; i < (phase + 1) * 10_000; i++) setPositive.Invoke(cache, [items[i].hash, items[i].hex, items[i].principal, now]);
    Console.WriteLine($"stores {phase * 10_000,7:N0}-{(phase + 1) * 10_000,7:N0}: {sw.Elapsed.TotalMicroseconds / 10_000,8:F2} µs each");
}
// The response cache's L1 (default bound 10,000 entries): stores while it is full of live entries.
var tierType = asm.GetType("Gateway.Caching.MemoryCacheTier");
var tier = Activator.CreateInstance(tierType, [TimeProvider.System, 10_000, 64L * 1024 * 1024]);
var set = tierType.GetMethod("Set");
var until = DateTimeOffset.UtcNow.AddMinutes(5);
for (int i = 0; i < 10_000; i++) set.Invoke(tier, [$"k{i}", new byte[200], new[] { $"user:{i}" }, until]);
sw.Restart();
for (int i = 10_000; i < 12_000; i++) set.Invoke(tier, [$"k{i}", new byte[200], new[] { $"user:{i}" }, until]);
Console.WriteLine($"response-cache L1 full (10,000 live entries): {sw.Elapsed.TotalMicroseconds / 2_000:F1} µs per refused store");
return 0;
