namespace Gateway.Observability;

/// <summary>
/// The self-contained operator dashboard (no external script, style or font). It polls <c>/gateway/stats</c> every
/// 2 s and draws inline SVG charts. Each chart element carries <c>data-points</c> (points drawn) for automated checks.
/// Kept as a raw string literal so it ships inside the assembly without a csproj change.
/// </summary>
internal static class DashboardPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gateway dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; background: #0f1419; color: #e6e6e6; }
  h1 { font-size: 20px; margin: 0 0 8px; }
  #meta { color: #9aa5b1; font-size: 13px; margin-bottom: 12px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
  .card { background: #1a2129; border-radius: 6px; padding: 10px 12px; }
  .card h2 { font-size: 14px; margin: 0 0 6px; font-weight: 600; }
  .card .sub { color: #9aa5b1; font-size: 12px; }
  svg { width: 100%; height: 180px; display: block; }
  .legend span { font-size: 12px; margin-right: 10px; }
  .over { color: #ff6b6b; font-weight: 600; }
  .ok { color: #51cf66; }
  table { border-collapse: collapse; font-size: 13px; width: 100%; }
  td, th { padding: 3px 6px; text-align: right; border-bottom: 1px solid #2b3540; }
  th:first-child, td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>Gateway</h1>
<div id="meta" data-state="loading">waiting for /gateway/stats…</div>
<div class="card" style="margin-bottom:12px"><h2>Tiers (last minute)</h2><table id="tier-table"><thead><tr><th>tier</th><th>budget ms</th><th>p50</th><th>p95</th><th>p99</th><th>rps</th><th>errors</th><th>compliance</th></tr></thead><tbody></tbody></table></div>
<div class="grid" id="latency-grid"></div>
<div class="grid" style="margin-top:12px">
  <div class="card"><h2>Throughput (req/s, 10 s steps)</h2><svg id="chart-throughput" class="chart" data-points="0"></svg></div>
  <div class="card"><h2>Error rate (5xx share)</h2><svg id="chart-errors" class="chart" data-points="0"></svg></div>
  <div class="card"><h2>Cache hit ratios</h2><div class="legend" id="legend-cache"></div><svg id="chart-cache" class="chart" data-points="0"></svg></div>
</div>
<script>
"use strict";
// Charts draw the server's 15-minute history (10 s steps, oldest first): a freshly opened page shows the past at once.
const colors = { p50: "#4dabf7", p95: "#fcc419", p99: "#ff922b", budget: "#ff6b6b", rps: "#51cf66", err: "#ff6b6b", resp: "#be4bdb", l1: "#4dabf7", l2: "#20c997", backend: "#fcc419" };
function el(tag, attrs) { const e = document.createElementNS("http://www.w3.org/2000/svg", tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; }
function draw(svg, series, opts) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const w = svg.clientWidth || 400, h = svg.clientHeight || 180, pad = 30;
  let max = opts.max || 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  if (opts.budget && opts.budget > max) max = opts.budget;
  if (max <= 0) max = 1;
  max *= 1.1;
  svg.appendChild(el("line", { x1: pad, y1: h - pad, x2: w, y2: h - pad, stroke: "#445" }));
  svg.appendChild(el("line", { x1: pad, y1: 0, x2: pad, y2: h - pad, stroke: "#445" }));
  const top = el("text", { x: 2, y: 12, fill: "#9aa5b1", "font-size": 10 }); top.textContent = max.toPrecision(3); svg.appendChild(top);
  const left = el("text", { x: pad, y: h - 12, fill: "#9aa5b1", "font-size": 10 }); left.textContent = "-15 min"; svg.appendChild(left);
  const right = el("text", { x: w - 24, y: h - 12, fill: "#9aa5b1", "font-size": 10 }); right.textContent = "now"; svg.appendChild(right);
  const y = v => (h - pad) - (v / max) * (h - pad - 4);
  let points = 0;
  for (const s of series) {
    const n = s.values.length;
    if (n === 0) continue;
    const step = (w - pad) / Math.max(1, n - 1);
    let d = "", pen = false;
    for (let i = 0; i < n; i++) {
      const v = s.values[i];
      if (v === null || v === undefined) { pen = false; continue; }
      const x = (pad + i * step).toFixed(1), yy = y(v).toFixed(1);
      d += (pen ? "L" : "M") + x + " " + yy + " ";
      pen = true;
      points++;
      svg.appendChild(el("circle", { cx: x, cy: yy, r: 2.5, fill: s.color }));
    }
    if (d) svg.appendChild(el("path", { d: d, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
  }
  if (opts.budget) {
    svg.appendChild(el("line", { x1: pad, y1: y(opts.budget), x2: w, y2: y(opts.budget), stroke: colors.budget, "stroke-dasharray": "6 4", "data-series": "budget" }));
  }
  svg.setAttribute("data-points", String(points));
}
function tierCard(name) {
  let card = document.getElementById("card-" + name);
  if (card) return card;
  card = document.createElement("div");
  card.className = "card"; card.id = "card-" + name;
  card.innerHTML = "<h2></h2><div class='legend'><span style='color:" + colors.p50 + "'>p50</span><span style='color:" + colors.p95 + "'>p95</span><span style='color:" + colors.p99 + "'>p99</span><span style='color:" + colors.budget + "'>budget</span></div>";
  card.querySelector("h2").textContent = "Latency " + name + " (ms)";
  const svg = el("svg", { id: "chart-latency-" + name, class: "chart latency", "data-tier": name, "data-points": "0" });
  card.appendChild(svg);
  document.getElementById("latency-grid").appendChild(card);
  return card;
}
function pct(v) { return v === null || v === undefined ? "n/a" : (v * 100).toFixed(1) + "%"; }
function render(stats) {
  const tbody = document.querySelector("#tier-table tbody");
  tbody.innerHTML = "";
  for (const name of Object.keys(stats.tiers)) {
    const t = stats.tiers[name], m = t.windows["1m"], h = stats.history.tiers[name];
    tierCard(name);
    draw(document.getElementById("chart-latency-" + name), [
      { name: "p50", color: colors.p50, values: h.p50 }, { name: "p95", color: colors.p95, values: h.p95 }, { name: "p99", color: colors.p99, values: h.p99 }], { budget: t.budgetMs });
    const tr = document.createElement("tr");
    const over = t.budgetMs > 0 && m.count > 0 && m.p99 > t.budgetMs;
    tr.className = over ? "over" : "";
    tr.setAttribute("data-tier", name); tr.setAttribute("data-over-budget", String(over));
    for (const v of [name, t.budgetMs, m.p50.toFixed(2), m.p95.toFixed(2), m.p99.toFixed(2), m.rps.toFixed(2), (m.errorRate * 100).toFixed(2) + "%", m.budgetCompliance.toFixed(2) + "%"]) {
      const td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  const c = stats.cache["1m"], hist = stats.history;
  draw(document.getElementById("chart-throughput"), [{ name: "rps", color: colors.rps, values: hist.rps }], {});
  draw(document.getElementById("chart-errors"), [{ name: "errors", color: colors.err, values: hist.errorRate }], {});
  draw(document.getElementById("chart-cache"), [
    { name: "response", color: colors.resp, values: hist.responseHitRatio }, { name: "session-l1", color: colors.l1, values: hist.sessionL1Ratio },
    { name: "session-l2", color: colors.l2, values: hist.sessionL2Ratio }, { name: "session-backend", color: colors.backend, values: hist.sessionBackendRatio }], { max: 1 });
  document.getElementById("legend-cache").innerHTML =
    "<span style='color:" + colors.resp + "'>response " + pct(c.response.lookups ? c.response.hitRatio : null) + "</span>" +
    "<span style='color:" + colors.l1 + "'>session L1 " + pct(c.session.validations ? c.session.l1.ratio : null) + "</span>" +
    "<span style='color:" + colors.l2 + "'>session L2 " + pct(c.session.validations ? c.session.l2.ratio : null) + "</span>" +
    "<span style='color:" + colors.backend + "'>session backend " + pct(c.session.validations ? c.session.backend.ratio : null) + "</span>";
  const meta = document.getElementById("meta");
  meta.textContent = "updated " + stats.generatedAt + " · last minute: " + stats.total.rps + " req/s · error rate " + (stats.total.errorRate * 100).toFixed(2) + "%";
  meta.setAttribute("data-state", "live");
}
async function poll() {
  try {
    const r = await fetch("/gateway/stats", { cache: "no-store", credentials: "same-origin" });
    if (r.ok) render(await r.json());
    else document.getElementById("meta").textContent = "stats: HTTP " + r.status;
  } catch (e) {
    document.getElementById("meta").textContent = "stats unreachable";
  }
}
poll();
setInterval(poll, 2000);
</script>
</body>
</html>
""";
}
