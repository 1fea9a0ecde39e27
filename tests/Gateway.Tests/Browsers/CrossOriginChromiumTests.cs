using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Browsers;

/// <summary>
/// Issue 15 in a real browser: headless Debian Chromium loads an app page from another origin (127.0.0.1 on another
/// port: cross-origin, same-site, so the Lax cookie travels) that logs in through the real gateway and the real backend
/// with a cross-origin <c>fetch</c> asking for the cookie, calls the API with the cookie and with a Bearer token, and
/// logs out; a page from a third origin meanwhile tries to log the user out with the cookie. Each outcome is written
/// into the DOM, which the test reads with <c>--dump-dom</c>.
/// </summary>
public sealed partial class CrossOriginChromiumTests(RedisFixture redis, PostgresFixture postgres) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private BackendProcess _backend = null!;
    private GatewayInstance _gateway = null!;
    private RecordingBackend _app = null!, _evil = null!;
    private readonly string _email = $"browser-{Guid.NewGuid():N}@example.com";

    public async ValueTask InitializeAsync()
    {
        ExternalProcess.RequireBinary("/usr/bin/chromium", "chromium");
        _backend = await BackendProcess.StartAsync(await postgres.CreateDatabaseAsync("browser"), redis.ConnectionString);
        _app = await RecordingBackend.StartAsync();
        _evil = await RecordingBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, BrowserRouteFiles.Create(_app.BaseUrl));
        var register = await _gateway.Client.PostAsJsonAsync("/auth/register", new { email = _email, password = Password, name = "Browser" });
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        _app.Handler = ctx => Html(ctx, AppPage(_gateway.BaseUrl, _evil.BaseUrl, _email));
        _evil.Handler = ctx => Html(ctx, EvilPage(_gateway.BaseUrl, _app.BaseUrl));
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _app.DisposeAsync();
        await _evil.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task CrossOriginFetch_WithTheCookieAndWithBearer_Works_AndAnotherOriginCannotUseTheCookie()
    {
        string profile = Directory.CreateTempSubdirectory("gw-browsers-chromium-").FullName;
        string dom;
        try { dom = await DashboardChromiumTests.RunChromiumAsync(profile, ["--dump-dom", _app.BaseUrl + "/"]); }
        finally { Directory.Delete(profile, recursive: true); }

        var match = ResultsElement().Match(dom);
        Assert.True(match.Success, "the page wrote no results; DOM:\n" + dom);
        var r = JsonDocument.Parse(WebUtility.HtmlDecode(match.Groups[1].Value)).RootElement;
        string Show() => r.GetRawText();

        // Login asking for the cookie: 200, readable by the app's script, and the token is nowhere a script can see.
        Assert.True(r.GetProperty("loginStatus").GetInt32() == 200, Show());
        Assert.True(r.GetProperty("loginBodyHasUser").GetBoolean(), Show());
        Assert.False(r.GetProperty("loginBodyHasToken").GetBoolean(), Show());
        Assert.False(r.GetProperty("cookieVisibleToScript").GetBoolean(), Show());
        // The cookie alone authenticates a cross-origin call whose answer the script reads.
        Assert.True(r.GetProperty("meByCookieStatus").GetInt32() == 200, Show());
        Assert.Equal(_email, r.GetProperty("meByCookieEmail").GetString());
        // Bearer, no cookie sent (credentials: 'omit'), from the same foreign origin.
        Assert.True(r.GetProperty("meByBearerStatus").GetInt32() == 200, Show());
        Assert.Equal(_email, r.GetProperty("meByBearerEmail").GetString());
        // The third origin's credentialed logout: the browser sends it (a simple request needs no preflight) with the
        // cookie and hides the answer either way; only the session surviving shows the gateway refused it.
        Assert.Equal("blocked", r.GetProperty("evilLogout").GetString());
        var probe = Assert.Single(_app.Requests, q => q.Path == "/probe");
        Assert.Contains("session=", probe.Headers.GetValueOrDefault("Cookie") ?? "");
        Assert.True(r.GetProperty("meAfterEvilStatus").GetInt32() == 200, Show());
        // The app's own logout clears the cookie; the next call is a 401 the script can read (CORS headers on it too).
        Assert.True(r.GetProperty("logoutStatus").GetInt32() == 204, Show());
        Assert.True(r.GetProperty("meAfterLogoutStatus").GetInt32() == 401, Show());
        Assert.Equal("https://gateway.dev/problems/unauthenticated", r.GetProperty("meAfterLogoutType").GetString());
    }

    private static Task Html(HttpContext ctx, string html)
    {
        if (ctx.Request.Path != "/") { ctx.Response.StatusCode = 204; return Task.CompletedTask; }   // /probe (recorded) and the rest
        ctx.Response.ContentType = "text/html; charset=utf-8";
        return ctx.Response.WriteAsync(html);
    }

    /// <summary>The app: every step awaits the previous one; the results land in &lt;pre id="results"&gt;.</summary>
    private static string AppPage(string gateway, string evil, string email) => $$"""
        <!doctype html><html><body><pre id="results">pending</pre>
        <script>
        const gw = {{JsonSerializer.Serialize(gateway)}}, evil = {{JsonSerializer.Serialize(evil)}};
        const creds = {{JsonSerializer.Serialize(new { email, password = Password })}};
        const r = {};
        const json = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        async function run() {
          let res = await fetch(gw + '/auth/login', { ...json(creds), credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-Session-Cookie': '1' } });
          r.loginStatus = res.status;
          const login = await res.json();
          r.loginBodyHasUser = !!login.user; r.loginBodyHasToken = 'token' in login;
          r.cookieVisibleToScript = document.cookie.includes('session');

          res = await fetch(gw + '/auth/me', { credentials: 'include' });
          r.meByCookieStatus = res.status; r.meByCookieEmail = (await res.json()).email;

          res = await fetch(gw + '/auth/login', { ...json(creds), credentials: 'omit' });
          const token = (await res.json()).token;
          res = await fetch(gw + '/auth/me', { credentials: 'omit', headers: { 'Authorization': 'Bearer ' + token } });
          r.meByBearerStatus = res.status; r.meByBearerEmail = (await res.json()).email;

          r.evilLogout = await new Promise(resolve => {
            window.addEventListener('message', e => resolve(e.data), { once: true });
            const frame = document.createElement('iframe'); frame.src = evil + '/'; document.body.appendChild(frame);
          });
          res = await fetch(gw + '/auth/me', { credentials: 'include' });
          r.meAfterEvilStatus = res.status;

          res = await fetch(gw + '/auth/logout', { method: 'POST', credentials: 'include' });
          r.logoutStatus = res.status;
          res = await fetch(gw + '/auth/me', { credentials: 'include' });
          r.meAfterLogoutStatus = res.status; r.meAfterLogoutType = (await res.json()).type;
        }
        run().catch(e => { r.error = String(e); }).finally(() => { document.getElementById('results').textContent = JSON.stringify(r); });
        </script></body></html>
        """;

    /// <summary>
    /// The other origin: a credentialed POST to the app's host (recorded there: proof that this frame's requests carry the
    /// session cookie, which is per host, not per port), then a credentialed logout at the gateway (no preflight: POST
    /// without custom headers), then it tells the app.
    /// </summary>
    private static string EvilPage(string gateway, string app) => $$"""
        <!doctype html><html><body><script>
        fetch({{JsonSerializer.Serialize(app + "/probe")}}, { method: 'POST', credentials: 'include' }).catch(() => null)
          .then(() => fetch({{JsonSerializer.Serialize(gateway + "/auth/logout")}}, { method: 'POST', credentials: 'include' }))
          .then(() => 'readable', () => 'blocked')
          .then(outcome => parent.postMessage(outcome, {{JsonSerializer.Serialize(app)}}));
        </script></body></html>
        """;

    [GeneratedRegex("<pre id=\"results\">(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ResultsElement();
}
