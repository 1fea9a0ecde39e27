using Microsoft.Extensions.Options;

namespace Gateway.Streams;

/// <summary>
/// The drain must end before the host gives up on shutdown: past <c>HostOptions:ShutdownTimeout</c> Kestrel aborts
/// every connection anyway, so a longer drain would only look configured.
/// </summary>
internal sealed class StreamOptionsValidator(IOptions<HostOptions> host) : IValidateOptions<StreamOptions>
{
    public ValidateOptionsResult Validate(string? name, StreamOptions options)
    {
        var shutdown = host.Value.ShutdownTimeout;
        return options.DrainTimeout < shutdown
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Streams:DrainTimeout ({options.DrainTimeout}) must be below HostOptions:ShutdownTimeout ({shutdown}). Lower the drain or raise the shutdown timeout.");
    }
}
