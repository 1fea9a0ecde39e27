using Gateway.Pipeline;

namespace Gateway.Routing;

/// <summary>
/// Runs before routing, so the route class, the auth decision and the backend all work on one path. Kestrel has
/// already percent-decoded the path and resolved dot segments (<c>%2e%2e</c> included); what it leaves ambiguous is
/// refused with 400, and runs of '/' are merged. Refused: a '%' left after decoding (an encoded slash <c>%2F</c>, a
/// double encoding such as <c>%252F</c>, or bytes that are not UTF-8 such as the overlong <c>%c0%ae</c>; YARP would
/// re-encode it as <c>%25</c> and a backend that decodes once more would see a different path), a backslash
/// (a separator for some servers), a control character, and a '.' or '..' segment with ';' parameters (Tomcat's
/// <c>/public/..;/auth</c>). docs/hardening.md, "Path normalisation".
/// </summary>
internal sealed class PathNormalisationMiddleware(RequestDelegate next)
{
    public Task Invoke(HttpContext context)
    {
        string? path = context.Request.Path.Value;
        if (string.IsNullOrEmpty(path)) return next(context);
        switch (Inspect(path))
        {
            case PathShape.Ambiguous:
                return GatewayProblems.AmbiguousPath.WriteAsync(context);
            case PathShape.EmptySegments:
                // Routing does not match '//auth' to '/auth/**', but many backends merge slashes: merge them here.
                context.Request.Path = new PathString(MergeSlashes(path));
                break;
        }
        return next(context);
    }

    internal enum PathShape { Clean, EmptySegments, Ambiguous }

    /// <summary>Classifies a decoded path in one pass, without allocating.</summary>
    internal static PathShape Inspect(ReadOnlySpan<char> path)
    {
        var shape = PathShape.Clean;
        int segmentStart = 0;
        for (int i = 0; i < path.Length; i++)
        {
            char c = path[i];
            if (c is '%' or '\\' || char.IsControl(c)) return PathShape.Ambiguous;
            if (c == '/')
            {
                if (i > 0 && path[i - 1] == '/') shape = PathShape.EmptySegments;
                segmentStart = i + 1;
            }
            else if (c == ';' && path[segmentStart..i] is "." or "..") return PathShape.Ambiguous;
        }
        return shape;
    }

    internal static string MergeSlashes(string path) =>
        string.Create(path.Length - CountRepeatedSlashes(path), path, static (span, source) =>
        {
            int n = 0;
            for (int i = 0; i < source.Length; i++)
                if (source[i] != '/' || i == 0 || source[i - 1] != '/') span[n++] = source[i];
        });

    private static int CountRepeatedSlashes(string path)
    {
        int count = 0;
        for (int i = 1; i < path.Length; i++) if (path[i] == '/' && path[i - 1] == '/') count++;
        return count;
    }
}
