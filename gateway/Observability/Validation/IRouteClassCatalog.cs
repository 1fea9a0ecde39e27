namespace Gateway.Observability;

/// <summary>The route classes in force with their tier and budget, so operator views list classes without traffic too.</summary>
internal interface IRouteClassCatalog
{
    IReadOnlyList<RouteClassBudget> GetRouteClasses();
}

/// <param name="Name">The route class.</param>
/// <param name="Tier">Its tier.</param>
/// <param name="BudgetMs">Its latency budget in milliseconds (the p99 target).</param>
internal sealed record RouteClassBudget(string Name, string Tier, double BudgetMs);
