using Gateway.Contracts;

namespace Backend.Data;

/// <summary>
/// Writes <c>X-DB-Queries</c>: the number of database commands the request had run when its response started (handlers
/// answer after their queries, so that is all of them). Outermost middleware, so authentication's session lookup counts.
/// </summary>
internal sealed class DbQueriesHeaderMiddleware(RequestDelegate next)
{
    // Responses rarely run more than a handful of commands: their header values are cached strings.
    private static readonly string[] SmallCounts = CreateSmallCounts(32);

    private static readonly Func<object, Task> WriteHeader = static state =>
    {
        var (response, scope) = ((HttpResponse, DbCommandCounter.Scope))state;
        int count = scope.Commands;
        response.Headers[DiagnosticHeaders.DbQueries] = (uint)count < (uint)SmallCounts.Length ? SmallCounts[count] : count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    };

    public Task InvokeAsync(HttpContext context)
    {
        var scope = DbCommandCounter.Begin();
        context.Response.OnStarting(WriteHeader, (context.Response, scope));
        return next(context);
    }

    private static string[] CreateSmallCounts(int n)
    {
        var values = new string[n];
        for (int i = 0; i < n; i++) values[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return values;
    }
}
