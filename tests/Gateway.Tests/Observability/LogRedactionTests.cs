using System.Security.Cryptography;
using System.Text;
using Gateway.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Observability;

public sealed class LogRedactionTests
{
    [Fact]
    public async Task Logs_NeverContainTokensPasswordsOrTokenHashes_AndOverBudgetIsRateLimited()
    {
        const string token = "tok_SuperSecretSessionToken_0123456789";
        const string password = "Correct-Horse-Battery-Staple-42";
        string tokenHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var capture = new CapturingLoggerProvider();
        await using var host = await ObservabilityTestHost.StartAsync(
            new Dictionary<string, string?> { ["Observability:OverBudgetLogsPerWindow"] = "2" },
            logging: logging =>
            {
                logging.AddGatewayLogging(new ProductionEnvironment());
                logging.AddProvider(capture);
                logging.SetMinimumLevel(LogLevel.Trace);
            });

        for (int i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/t?tier=ultra-fast&route=login&delay=10&status=401");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            request.Content = new StringContent($"{{\"email\":\"a@b.c\",\"password\":\"{password}\"}}", Encoding.UTF8, "application/json");
            using var response = await host.Client.SendAsync(request, TestContext.Current.CancellationToken);
        }
        using (await host.GetAsync("/t?tier=standard&route=boom&status=500", token)) { }

        var overBudget = capture.Entries.Where(e => e.EventId.Id == 4100).ToList();
        Assert.Equal(2, overBudget.Count);
        Assert.All(overBudget, e =>
        {
            Assert.Equal(LogLevel.Warning, e.Level);
            Assert.Contains("tier ultra-fast", e.Message);
            Assert.Contains("route class login", e.Message);
            Assert.Contains("longest stage proxy", e.Message);
        });
        Assert.NotEmpty(capture.Entries);
        foreach (var entry in capture.Entries)
        {
            Assert.DoesNotContain(token, entry.AllText);
            Assert.DoesNotContain(password, entry.AllText);
            Assert.DoesNotContain(tokenHash, entry.AllText, StringComparison.OrdinalIgnoreCase);
        }
    }

    private sealed class ProductionEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Production;
        public string ApplicationName { get; set; } = "gateway";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } =
            new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
