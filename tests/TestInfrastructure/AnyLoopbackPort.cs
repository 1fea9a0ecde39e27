using Microsoft.AspNetCore.Builder;

namespace TestInfrastructure;

/// <summary>
/// For in-process test hosts: listen on 127.0.0.1 port 0, so the kernel picks a free port at bind time, then read the
/// port Kestrel got. A port probed free beforehand (<see cref="FreePort"/>) can be taken by another process before the
/// bind; a CI run failed with "address already in use" that way. Child processes, which cannot report their port back,
/// still use <see cref="FreePort"/>.
/// </summary>
public static class AnyLoopbackPort
{
    public const string Url = "http://127.0.0.1:0";

    /// <summary>The address the started <paramref name="app"/> listens on.</summary>
    public static string BoundUrl(this WebApplication app) =>
        app.Urls.FirstOrDefault() ?? throw new InvalidOperationException("The test host bound no address.");
}
