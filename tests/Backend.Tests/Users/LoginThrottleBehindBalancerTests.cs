using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Users;

/// <summary>
/// Issue 14, part 7, end to end over real sockets: clients → nginx (the balancer) → the gateway binary, which lists
/// nginx in RateLimiting:TrustedProxies → the backend on Kestrel, real Postgres and Redis. The clients connect from
/// distinct loopback addresses (127.0.0.2, 127.0.0.3), so nginx sees two real peers. Before the fix the backend took
/// X-Forwarded-For's last hop (nginx, appended by the gateway) as the client, and 20 failures from one client made
/// every login 429 for 15 minutes.
/// </summary>
public sealed class LoginThrottleBehindBalancerTests(PostgresFixture postgres, RedisFixture redis) : IAsyncLifetime
{
    private BackendApp _backend = null!;
    private ChildProcess _gateway = null!;
    private ChildProcess _nginx = null!;
    private string _nginxUrl = "";

    public async ValueTask InitializeAsync()
    {
        _backend = new BackendApp(await postgres.CreateDatabaseAsync("b"), redis.ConnectionString);
        int backendPort = FreePort.Next();
        _backend.UseKestrel(backendPort);
        _backend.StartServer();

        // The gateway's own login limit (10 a minute per IP) would stop client A before the backend's throttle (20)
        // is reached; raised here so the test sees the backend's decision.
        var routes = JsonNode.Parse(File.ReadAllText(RepoPaths.Combine("config", "route-classes.json")),
            documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
        routes["rateLimitPolicies"]!["login"]!["limit"] = 10_000;
        string routeFile = Path.Combine(Directory.CreateTempSubdirectory("gwtest-routes-").FullName, "route-classes.json");
        await File.WriteAllTextAsync(routeFile, routes.ToJsonString());

        int gatewayPort = FreePort.Next();
        _gateway = ChildProcess.Start("dotnet",
        [
            GatewayBinary(), $"--urls=http://127.0.0.1:{gatewayPort}", $"--Backend:BaseUrl=http://127.0.0.1:{backendPort}",
            $"--Redis:Configuration={redis.ConnectionString}", $"--RouteClasses:Path={routeFile}",
            "--RateLimiting:TrustedProxies:0=127.0.0.1",
            $"--Trust:InternalSecret={BackendApp.InternalSecret}",
            $"--Signing:Clusters:backend:Keys:0:Id={BackendApp.SigningKeyId}", $"--Signing:Clusters:backend:Keys:0:Secret={BackendApp.SigningSecret}",
        ], new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Production", ["ASPNETCORE_ENVIRONMENT"] = "Production" });
        await _gateway.WaitUntilReadyAsync($"http://127.0.0.1:{gatewayPort}/ready", TimeSpan.FromSeconds(60));

        int nginxPort = FreePort.Next();
        string prefix = Directory.CreateTempSubdirectory("gwtest-nginx-").FullName;
        await File.WriteAllTextAsync(Path.Combine(prefix, "nginx.conf"), $$"""
            {{(Environment.UserName == "root" ? "user root;" : "")}}
            worker_processes 1;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
                server {
                    listen 127.0.0.1:{{nginxPort}};
                    location / {
                        proxy_pass http://127.0.0.1:{{gatewayPort}};
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                    }
                }
            }
            """);
        string nginx = ExternalBinary("/usr/sbin/nginx", "nginx-light");
        _nginx = ChildProcess.Start(nginx, ["-p", prefix, "-c", Path.Combine(prefix, "nginx.conf"), "-g", "daemon off;"]);
        _nginxUrl = $"http://127.0.0.1:{nginxPort}";
        await _nginx.WaitUntilReadyAsync(_nginxUrl + "/health", TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await _nginx.DisposeAsync();
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    /// <summary>The gateway binary built beside this test project (same configuration and framework).</summary>
    private static string GatewayBinary()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string path = RepoPaths.Combine("gateway", "bin", tfm.Parent!.Name, tfm.Name, "gateway.dll");
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} is missing: build Gateway.sln first.");
        return path;
    }

    private static string ExternalBinary(string path, string package) => File.Exists(path) ? path
        : throw new InvalidOperationException($"{path} is missing: install it with 'apt-get install -y {package}' (scripts/test.sh does this).");

    /// <summary>A client whose TCP connections come from <paramref name="source"/>, a loopback address of its own.</summary>
    private HttpClient ClientFrom(string source) => new(new SocketsHttpHandler
    {
        UseCookies = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    }) { BaseAddress = new Uri(_nginxUrl) };

    [Fact]
    public async Task TwentyFailuresFromClientA_ThrottleClientA_WhileClientBStillLogsIn()
    {
        using var clientA = ClientFrom("127.0.0.2");
        using var clientB = ClientFrom("127.0.0.3");
        string email = Api.NewEmail("victim");
        Assert.Equal(HttpStatusCode.Created, (await clientB.PostAsJsonAsync("/auth/register", new { email, password = Api.Password, name = "Victim" })).StatusCode);

        // Client A guesses against fresh accounts (so only its per-IP counter, never an account counter, fills up).
        for (int i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await clientA.PostAsJsonAsync("/auth/login", new { email = Api.NewEmail("guess"), password = "wrong password 123" })).StatusCode);
        await (await clientA.PostAsJsonAsync("/auth/login", new { email = Api.NewEmail("guess"), password = "wrong password 123" }))
            .AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");

        var fromB = await clientB.PostAsJsonAsync("/auth/login", new { email, password = Api.Password });
        Assert.True(fromB.StatusCode == HttpStatusCode.OK, $"client B's correct login: {(int)fromB.StatusCode} {await fromB.Content.ReadAsStringAsync()}");

        // A stays throttled even with the right password: the limit is per client, not global.
        await (await clientA.PostAsJsonAsync("/auth/login", new { email, password = Api.Password }))
            .AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");
    }
}
