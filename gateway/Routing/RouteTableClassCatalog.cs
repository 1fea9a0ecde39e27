using Gateway.Observability;

namespace Gateway.Routing;

/// <summary>The active route classes, for the operator views (stats, validate, dashboard).</summary>
internal sealed class RouteTableClassCatalog(IRouteTable routes) : IRouteClassCatalog
{
    public IReadOnlyList<RouteClassBudget> GetRouteClasses()
    {
        var classes = routes.Current.Classes;
        var result = new List<RouteClassBudget>(classes.Count);
        foreach (var (name, cls) in classes) result.Add(new RouteClassBudget(name, cls.Tier, cls.BudgetMs));
        result.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }
}
