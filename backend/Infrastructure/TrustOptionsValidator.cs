using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Backend.Infrastructure;

/// <summary>Start-up checks of <see cref="TrustOptions"/>: every problem at once, each naming the setting and the fix.</summary>
internal sealed class TrustOptionsValidator(IHostEnvironment environment) : IValidateOptions<TrustOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrEmpty(options.SharedSecret))
            errors.Add("Trust:SharedSecret is no longer read: the one shared secret was split. Set Trust:InternalSecret (X-Gateway-Secret, "
                + "the gateway's Trust:InternalSecret) and Trust:SigningKeys (the gateway's Signing:Clusters:backend:Keys), and remove Trust:SharedSecret.");
        // Whether the repository's secrets are refused depends on the environment: it must be the one the operator named.
        if (GatewaySecrets.EnvironmentConflict() is { } conflict) errors.Add(conflict);
        if (GatewaySecrets.Weakness(options.InternalSecret, environment.IsDevelopment()) is { } weakness)
            errors.Add($"Trust:InternalSecret {weakness}. Set Trust__InternalSecret from your secret store to the gateway's Trust:InternalSecret (make one with: {GatewaySecrets.HowToGenerate}).");
        for (int i = 0; i < options.SigningKeys.Count; i++)
            if (options.InternalSecret.Length > 0 && string.Equals(options.SigningKeys[i].Secret, options.InternalSecret, StringComparison.Ordinal))
                errors.Add($"Trust:InternalSecret equals the secret of Trust:SigningKeys:{i} ('{options.SigningKeys[i].Id}'). They must differ: every team behind the gateway holds a signing key, only the gateway may call /internal/**.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
