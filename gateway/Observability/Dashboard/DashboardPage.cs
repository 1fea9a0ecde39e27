namespace Gateway.Observability;

/// <summary>
/// The self-contained operator dashboard (no external script, style or font). It polls <c>/gateway/stats?scope=fleet</c>
/// and <c>/gateway/validate</c> every 2 s and draws inline SVG charts. Chart elements carry <c>data-points</c> (points
/// drawn), table rows <c>data-*</c> attributes, for automated checks. The script lives in <see cref="DashboardScript"/>.
/// </summary>
internal static class DashboardPage
{
    /// <summary>
    /// The page's policy: its one inline script by hash, data only from its own origin, no frames, forms or plugins. A
    /// name the escaping missed still cannot run script (the page shows names from the route-class file).
    /// </summary>
    public static readonly string ContentSecurityPolicy =
        "default-src 'none'; script-src 'sha256-" + ScriptHash() + "'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static string ScriptHash()
    {
        int start = Html.IndexOf("<script>", StringComparison.Ordinal) + "<script>".Length;
        int end = Html.IndexOf("</script>", start, StringComparison.Ordinal);
        return Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Html[start..end])));
    }

    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gateway dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; background: #0f1419; color: #e6e6e6; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  #meta { color: #9aa5b1; font-size: 13px; margin-bottom: 12px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; margin-bottom: 12px; }
  .row { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; margin-bottom: 12px; }
  .card { background: #1a2129; border-radius: 6px; padding: 10px 12px; }
  .wide { margin-bottom: 12px; }
  .card h2 { font-size: 14px; margin: 0 0 6px; font-weight: 600; }
  .sub { color: #9aa5b1; font-size: 12px; }
  svg { width: 100%; height: 180px; display: block; }
  .legend span { font-size: 12px; margin-right: 10px; }
  .over, .fail, .bad { color: #ff6b6b; font-weight: 600; }
  .ok, .pass { color: #51cf66; }
  .warn, .stale { color: #fcc419; }
  .gone { color: #868e96; text-decoration: line-through; }
  table { border-collapse: collapse; font-size: 13px; width: 100%; }
  td, th { padding: 3px 6px; text-align: right; border-bottom: 1px solid #2b3540; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  th { color: #9aa5b1; font-weight: 500; }
  ul.errors { margin: 4px 0 0 16px; padding: 0; font-size: 12px; color: #ffa8a8; }
  .kv { font-size: 13px; line-height: 1.6; }
  .kv b { color: #9aa5b1; font-weight: 500; }
</style>
</head>
<body>
<h1>Gateway <span id="instance" class="sub"></span></h1>
<div id="meta" data-state="loading">waiting for /gateway/stats…</div>
<div class="row" id="status-row">
  <div class="card" id="status-config"><h2>Config</h2><div class="kv">–</div></div>
  <div class="card" id="status-redis"><h2>Redis &amp; invalidation</h2><div class="kv">–</div></div>
  <div class="card" id="status-backend"><h2>Backend</h2><div class="kv">–</div></div>
  <div class="card" id="status-breakers"><h2>Breakers</h2><div class="kv">–</div></div>
</div>
<div class="card wide" id="fleet"><h2>Fleet <span id="fleet-flag" class="sub"></span></h2>
  <table id="fleet-table"><thead><tr><th>instance</th><th>state</th><th>last report</th><th>requests (1 min)</th><th>req/s</th><th>errors</th><th>401</th><th>429</th><th>shed</th><th>worst p99 vs budget</th></tr></thead><tbody></tbody></table>
  <div class="sub" style="margin-top:8px">All live instances together, last minute</div>
  <table id="fleet-tiers"><thead><tr><th>tier</th><th>budget</th><th>p50</th><th>p95</th><th>p99</th><th>req/s</th><th>errors</th><th>401</th><th>429</th><th>shed</th><th>compliance</th></tr></thead><tbody></tbody></table>
</div>
<div class="card wide"><h2>Budget validation <span id="validate-result" class="sub"></span></h2>
  <div class="sub">p99 against each budget, last 1 and 15 minutes (<a style="color:#4dabf7" href="/gateway/validate">/gateway/validate</a>)</div>
  <table id="validate-table"><thead><tr><th>tier / route class</th><th>budget</th><th>1 min p95</th><th>1 min p99</th><th>1 min compliance</th><th>1 min</th><th>15 min p99</th><th>15 min compliance</th><th>15 min</th></tr></thead><tbody></tbody></table>
</div>
<div class="card wide"><h2>Tiers (this instance, last minute)</h2><table id="tier-table"><thead><tr><th>tier</th><th>budget</th><th>p50</th><th>p95</th><th>p99</th><th>req/s</th><th>errors</th><th>401</th><th>429</th><th>shed</th><th>compliance</th></tr></thead><tbody></tbody></table></div>
<div class="grid" style="grid-template-columns: 3fr 2fr">
  <div class="card"><h2>Route classes (last minute)</h2><table id="class-table"><thead><tr><th>class</th><th>tier</th><th>budget</th><th>p95</th><th>p99</th><th>req/s</th><th>errors</th><th>401</th><th>429</th></tr></thead><tbody></tbody></table></div>
  <div class="card"><h2>Clusters (last minute)</h2><table id="cluster-table"><thead><tr><th>cluster</th><th>p50</th><th>p95</th><th>p99</th><th>req/s</th><th>errors</th><th>shed</th></tr></thead><tbody></tbody></table></div>
  <div class="card"><h2>Destinations (health checks)</h2><table id="destination-table"><thead><tr><th>cluster</th><th>destination</th><th>address</th><th>active</th><th>passive</th><th>in rotation</th><th>in flight</th></tr></thead><tbody></tbody></table></div>
</div>
<div class="grid" id="latency-grid"></div>
<div class="grid">
  <div class="card"><h2>Throughput (req/s, 10 s steps)</h2><svg id="chart-throughput" class="chart" data-points="0"></svg></div>
  <div class="card"><h2>Error rate (% of requests answered 5xx)</h2><svg id="chart-errors" class="chart" data-points="0"></svg></div>
  <div class="card"><h2>Cache hit ratios (%)</h2><div class="legend" id="legend-cache"></div><svg id="chart-cache" class="chart" data-points="0"></svg></div>
</div>
<script>
""" + DashboardScript.Js + """
</script>
</body>
</html>
""";
}
