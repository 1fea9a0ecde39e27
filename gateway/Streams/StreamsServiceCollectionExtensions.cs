using Microsoft.Extensions.Options;

namespace Gateway.Streams;

internal static class StreamsServiceCollectionExtensions
{
    /// <summary>
    /// WebSockets, gRPC and server-sent events: the registry of open streams, their closing on revocation (pub/sub and
    /// periodic revalidation) and their drain on shutdown. Section <c>Streams</c>.
    /// </summary>
    public static IServiceCollection AddGatewayStreams(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<StreamOptions>().Bind(config.GetSection(StreamOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamOptions>, StreamOptionsValidator>();
        services.AddSingleton<StreamRegistry>();
        services.AddHostedService<StreamRevocation>();
        services.AddHostedService<StreamReclassification>();
        services.AddSingleton<StreamRevalidator>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamRevalidator>());
        services.AddHostedService<StreamDrain>();
        return services;
    }

    /// <summary>After session validation (a stream is registered under its validated session), before the response cache.</summary>
    public static IApplicationBuilder UseGatewayStreams(this IApplicationBuilder app) => app.UseMiddleware<StreamMiddleware>();
}
