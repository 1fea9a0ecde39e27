using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Backend.Infrastructure;

/// <summary>
/// The request's <c>charset</c>, settled before an endpoint reads the body. ASP.NET Core's JSON reader looks the charset
/// up with <see cref="Encoding.GetEncoding(string)"/> and throws <see cref="InvalidOperationException"/> for one it does
/// not know (<c>charset=bogus</c>, <c>charset=</c>): a 500 logged at Error for the client's mistake. It also does not
/// unquote the value, so RFC 9110's quoted spelling of UTF-8 (<c>charset="utf-8"</c>) failed the same way. Here a quoted
/// charset is unquoted, and one no encoding answers to is a 415 problem.
/// </summary>
internal static class RequestCharsetMiddleware
{
    public static IApplicationBuilder UseRequestCharset(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        if (context.Request.ContentType is not { } contentType || !contentType.Contains("charset", StringComparison.OrdinalIgnoreCase)
            || context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true
            || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.Charset.HasValue)
            return next(context);
        string charset = HeaderUtilities.RemoveQuotes(mediaType.Charset).ToString();
        if (EncodingOf(charset) is not { } encoding) return UnsupportedAsync(context, charset);
        if (charset.Length != mediaType.Charset.Length)
        {
            // The encoding's own name: always a token, where a known alias may not be one (iso_646.irv:1991).
            mediaType.Charset = encoding.WebName;
            context.Request.ContentType = mediaType.ToString();
        }
        return next(context);
    });

    /// <summary>The encoding a charset names, or null: unknown (ArgumentException) or known but unusable (UTF-7).</summary>
    private static Encoding? EncodingOf(string charset)
    {
        if (charset.Length == 0) return null;
        try
        {
            return Encoding.GetEncoding(charset);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static async Task UnsupportedAsync(HttpContext context, string charset)
    {
        context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "Unsupported media type.",
                Detail = $"The charset '{charset}' is not a known encoding. Send UTF-8.",
            },
        });
    }
}
