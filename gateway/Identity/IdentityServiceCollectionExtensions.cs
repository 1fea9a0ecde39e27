using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

internal static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// The gateway's identity settings, each validated at start naming the setting: the extra identity headers stripped
    /// from clients (<c>IdentityHeaders</c>), its internal secret towards the backend (<c>Trust</c>) and the per-cluster
    /// signing keys (<c>Signing</c>), which every cluster of the route-class file loaded at start must have.
    /// </summary>
    public static IServiceCollection AddGatewayIdentityHeaders(this IServiceCollection services, IConfiguration config,
        IReadOnlyCollection<string> clusters)
    {
        services.AddOptions<IdentityHeaderOptions>().Bind(config.GetSection(IdentityHeaderOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IdentityHeaderOptions>, IdentityHeaderOptionsValidator>();
        services.AddOptions<GatewayTrustOptions>().Bind(config.GetSection("Trust")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayTrustOptions>, TrustOptionsValidator>();
        services.AddOptions<SigningOptions>().Bind(config.GetSection(SigningOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SigningOptions>>(sp => new SigningOptionsValidator(
            sp.GetRequiredService<IHostEnvironment>(), clusters, sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ClusterSigners>();
        return services;
    }
}
