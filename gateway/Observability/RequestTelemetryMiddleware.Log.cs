using Microsoft.Extensions.Logging;

namespace Gateway.Observability;

internal sealed partial class RequestTelemetryMiddleware
{
    private static partial class Log
    {
        // Never log paths or query strings here: they can carry tokens. Tier, route class and the request id are safe.
        [LoggerMessage(4100, LogLevel.Warning,
            "Request {RequestId} over budget: tier {Tier}, route class {RouteClass}, {DurationMs:F2} ms against a {BudgetMs} ms budget; longest stage {Stage} ({StageMs:F2} ms); {Suppressed} earlier warnings suppressed",
            EventName = "RequestOverBudget")]
        public static partial void OverBudget(ILogger logger, string requestId, string tier, string routeClass, double durationMs,
            double budgetMs, string stage, double stageMs, long suppressed);
    }
}
