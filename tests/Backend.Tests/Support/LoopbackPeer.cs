using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Backend.Tests.Support;

/// <summary>TestServer has no peer address; make every request come from loopback, as the gateway's would.</summary>
internal sealed class LoopbackPeer : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((ctx, n) =>
        {
            ctx.Connection.RemoteIpAddress ??= IPAddress.Loopback;
            return n(ctx);
        });
        next(app);
    };
}
