using Gateway.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Routing;

/// <summary>
/// What would reach the backend's /internal/**: the client's path, or what a route leaves of it once it removed its
/// prefix, matched by whole segments in any letter case (as YARP removes the prefix).
/// </summary>
public sealed class ReachesInternalTests
{
    [Theory]
    [InlineData("/internal", null, true)]
    [InlineData("/Internal/sessions/touch", null, true)]
    [InlineData("/internals", null, false)]
    [InlineData("/x/internal", null, false)]
    [InlineData("/api/internal", "/api", true)]
    [InlineData("/API/Internal/sessions/touch", "/api", true)]
    [InlineData("/api/internal/", "/api", true)]
    [InlineData("/api/internals", "/api", false)]
    [InlineData("/apix/internal", "/api", false)]
    [InlineData("/api", "/api", false)]
    [InlineData("/api/v1/internal", "/api", false)]
    [InlineData("/api/v1/internal/x", "/api/v1", true)]
    [InlineData("/internal/x", "/api", true)]
    public void MatchesWholeSegmentsInAnyCase(string path, string? removedPrefix, bool reaches) =>
        Assert.Equal(reaches, RouteClassificationMiddleware.ReachesInternal(new PathString(path), removedPrefix));
}
