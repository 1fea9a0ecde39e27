using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Trust;

/// <summary>
/// Start-up validation of the verifier's keys: every problem at once, each naming the setting and the fix. Secrets
/// from the repository are refused outside Development.
/// </summary>
internal sealed class GatewayIdentityOptionsValidator(IHostEnvironment? environment = null) : IValidateOptions<GatewayIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayIdentityOptions options)
    {
        if (name != GatewayIdentityHandler.SchemeName) return ValidateOptionsResult.Skip;
        var errors = new List<string>();
        string path = options.SettingsPath.Length > 0 ? options.SettingsPath + ":SigningKeys" : "GatewayIdentityOptions.SigningKeys";
        bool development = environment?.IsDevelopment() == true;
        var keys = options.SigningKeys;
        if (keys.Count == 0)
            errors.Add($"{path} is empty. Add this service's key, e.g. {path}:0:Id=k1 and {path}:0:Secret=<the secret the gateway signs this cluster with>.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            if (!GatewaySigningKey.IsValidId(key.Id))
                errors.Add($"{path}:{i}:Id '{key.Id}' must be 1 to 64 characters of [A-Za-z0-9._-].");
            else if (!seen.Add(key.Id))
                errors.Add($"{path}:{i}:Id '{key.Id}' is configured twice. Key ids must be unique.");
            if (GatewaySecrets.Weakness(key.Secret, development) is { } weakness)
            {
                // Bound from configuration: name the environment variable; configured in code: the code has to change.
                string fix = options.SettingsPath.Length > 0 ? $"Set {EnvironmentName(path)}__{i}__Secret from your secret store" : "Take it from your secret store";
                errors.Add($"{path}:{i}:Secret (key '{key.Id}') {weakness}. {fix} (make one with: {GatewaySecrets.HowToGenerate}).");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string EnvironmentName(string path) => path.Replace(":", "__", StringComparison.Ordinal);
}
