using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>Start-up checks of <see cref="GatewayTrustOptions"/>, naming the setting and the fix.</summary>
internal sealed class TrustOptionsValidator(IHostEnvironment environment) : IValidateOptions<GatewayTrustOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayTrustOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrEmpty(options.SharedSecret))
            errors.Add("Trust:SharedSecret is no longer read: the one shared secret was split. Set Trust:InternalSecret (X-Gateway-Secret to the backend) "
                + "and Signing:Clusters:<cluster>:Keys (the keys identity signatures are made with), and remove Trust:SharedSecret.");
        // Whether the repository's secrets are refused depends on the environment: it must be the one the operator named.
        if (GatewaySecrets.EnvironmentConflict() is { } conflict) errors.Add(conflict);
        if (GatewaySecrets.Weakness(options.InternalSecret, environment.IsDevelopment()) is { } weakness)
            errors.Add($"Trust:InternalSecret {weakness}. Set Trust__InternalSecret from your secret store, the same value as the backend's Trust:InternalSecret (make one with: {GatewaySecrets.HowToGenerate}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
