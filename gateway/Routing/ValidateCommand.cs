namespace Gateway.Routing;

/// <summary><c>gateway validate &lt;file&gt;</c>: checks a route-class file without starting the gateway. Exit 0 when valid, 1 otherwise.</summary>
internal static class ValidateCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length != 2)
        {
            stderr.WriteLine("Usage: gateway validate <route-classes.json>");
            return 1;
        }
        var errors = RouteClassFileParser.ParseFile(args[1], out var snapshot);
        if (snapshot is null)
        {
            stderr.WriteLine($"INVALID: {args[1]} has {errors.Count} error(s):");
            foreach (var e in errors) stderr.WriteLine("  - " + e);
            return 1;
        }
        stdout.WriteLine($"OK: {snapshot.Classes.Count} classes, {snapshot.Routes.Count} routes (version {snapshot.Version})");
        return 0;
    }
}
