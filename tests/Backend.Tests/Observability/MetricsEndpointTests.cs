using System.Net;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Observability;

/// <summary>The backend's /metrics: Prometheus text of its own, Npgsql's and ASP.NET Core's instruments, admin only.</summary>
public sealed class MetricsEndpointTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    private const string AdminKey = "metrics-admin-key-0123456789";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Admin:Key"] = AdminKey,
        ["Admin:AllowLoopback"] = "false",
    };

    [Fact]
    public async Task Metrics_WithoutAdminKey_Is403()
    {
        var response = await Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_WithAdminKey_ExposesRequestDatabaseAndPasswordHashSeries()
    {
        await Client.RegisterAsync($"m-{Guid.NewGuid():N}@example.com");
        await Client.GetAsync("/health");

        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Admin-Key", AdminKey);
        var response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("backend_request_duration_seconds_count{endpoint=\"/auth/register\"", text);
        Assert.Contains("auth_password_hash_duration_seconds_count", text);
        Assert.Contains("db_client_operation_duration_seconds", text);
    }
}
