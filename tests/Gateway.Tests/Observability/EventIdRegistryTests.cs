using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Observability;

/// <summary>
/// One registry of event ids per service (docs/observability.md, "Event ids"): an id in a log names exactly one event,
/// so an operator can alert on it. Checked over every source-generated log method of each service's assembly.
/// </summary>
public sealed class EventIdRegistryTests
{
    public static TheoryData<string> Services => ["gateway", "backend"];

    [Theory]
    [MemberData(nameof(Services))]
    public void EveryLogEventOfAService_HasAnIdNoOtherEventOfThatServiceUses(string service)
    {
        var assembly = LoadService(service);
        var events = new List<(int Id, string Where)>();
        foreach (var type in assembly.GetTypes())
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                    events.Add((attribute.EventId, $"{type.FullName}.{method.Name} ({attribute.EventName})"));

        Assert.NotEmpty(events);
        var clashes = events.GroupBy(e => e.Id).Where(g => g.Count() > 1)
            .Select(g => $"id {g.Key}: {string.Join(", ", g.Select(e => e.Where))}").ToList();
        Assert.True(clashes.Count == 0, $"{service} event ids used more than once:\n" + string.Join('\n', clashes));
        Assert.DoesNotContain(events, e => e.Id <= 0);
    }

    private static Assembly LoadService(string service)
    {
        if (service == "gateway") return typeof(Gateway.GatewayApp).Assembly;
        // The backend is not referenced by this project (both define Program): load its build output beside it.
        string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = TestInfrastructure.RepoPaths.Combine("backend", "bin", configuration, "net10.0", "backend.dll");
        var context = new System.Runtime.Loader.AssemblyLoadContext("backend-events", isCollectible: true);
        context.Resolving += (ctx, name) =>
        {
            string candidate = Path.Combine(Path.GetDirectoryName(dll)!, name.Name + ".dll");
            return File.Exists(candidate) ? ctx.LoadFromAssemblyPath(candidate) : null;
        };
        return context.LoadFromAssemblyPath(dll);
    }
}
