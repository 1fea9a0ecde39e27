using Microsoft.Extensions.Options;

namespace Gateway.Observability.Fleet;

/// <summary>This instance's name in the fleet: <see cref="FleetOptions.InstanceId"/>, else host name and operator port.</summary>
internal sealed class FleetIdentity(IOptions<FleetOptions> options, AdminListener? listener = null)
{
    public string InstanceId { get; } = options.Value.InstanceId is { Length: > 0 } id ? id
        : listener is { Port: > 0 } l ? Environment.MachineName + ":" + l.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
        // No operator port to tell instances on one host apart: the process id does, for the life of the process.
        : Environment.MachineName + ":pid" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
