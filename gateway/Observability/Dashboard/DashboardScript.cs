namespace Gateway.Observability;

/// <summary>
/// The dashboard's script. Why some choices: latency axes are clipped at 1.5 x the 95th percentile of the plotted
/// points (never below 1.25 x the budget), so one warm-up outlier cannot flatten the rest; clipped points sit on the
/// top edge, marked, with the true maximum in the label. Error rates are percentages, as in the tables. Times are
/// local clock times and ages ("4 s ago"), durations in ms or s.
/// </summary>
internal static class DashboardScript
{
    public const string Js = """
"use strict";
const colors = { p50: "#4dabf7", p95: "#fcc419", p99: "#ff922b", budget: "#ff6b6b", rps: "#51cf66", err: "#ff6b6b", resp: "#be4bdb", l1: "#4dabf7", l2: "#20c997", backend: "#fcc419" };
function el(tag, attrs) { const e = document.createElementNS("http://www.w3.org/2000/svg", tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; }
function ms(v) { if (v === null || v === undefined) return "–"; if (v >= 1000) return (v / 1000).toFixed(2) + " s"; if (v >= 100) return v.toFixed(0) + " ms"; if (v >= 10) return v.toFixed(1) + " ms"; return v.toFixed(2) + " ms"; }
function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(v > 0 && v < 0.001 ? 3 : 1) + "%"; }
function num(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
function clock(iso) { const d = new Date(iso); return isNaN(d) ? "–" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
function age(s) { if (s < 1) return "just now"; if (s < 120) return s.toFixed(0) + " s ago"; if (s < 7200) return (s / 60).toFixed(0) + " min ago"; return (s / 3600).toFixed(1) + " h ago"; }
// Quotes too: names from the route-class file (a cluster's, in data-breaker='...') are placed inside attribute values.
function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"); }
// The server sends only filled steps as [step, value]; charts need one slot per step, null where nothing happened.
function dense(pairs, steps, fill) { const a = new Array(steps).fill(fill); for (const [i, v] of pairs || []) if (i >= 0 && i < steps) a[i] = v; return a; }
function draw(svg, series, opts) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const w = svg.clientWidth || 400, h = svg.clientHeight || 180, padL = 52, padB = 22;
  const fmt = opts.format || num;
  const all = [];
  for (const s of series) for (const v of s.values) if (v !== null && v !== undefined) all.push(v);
  let max = opts.max || 0, trueMax = 0;
  for (const v of all) if (v > trueMax) trueMax = v;
  if (!opts.max) {
    max = trueMax;
    if (opts.clip && all.length >= 5) {
      const sorted = all.slice().sort((a, b) => a - b);
      const cap = Math.max(sorted[Math.floor(0.95 * (sorted.length - 1))] * 1.5, (opts.budget || 0) * 1.25);
      if (cap > 0 && cap < trueMax) max = cap;
    }
    if (opts.budget && opts.budget * 1.1 > max) max = opts.budget * 1.1;
    if (max <= 0) max = 1;
    max *= 1.05;
  }
  const clipped = trueMax > max;
  svg.setAttribute("data-clipped", String(clipped));
  const x0 = padL, y0 = h - padB;
  svg.appendChild(el("line", { x1: x0, y1: y0, x2: w, y2: y0, stroke: "#445" }));
  svg.appendChild(el("line", { x1: x0, y1: 0, x2: x0, y2: y0, stroke: "#445" }));
  const y = v => y0 - (Math.min(v, max) / max) * (y0 - 6);
  for (const f of [0, 0.5, 1]) {
    const t = el("text", { x: x0 - 4, y: y(max * f) + 4, fill: "#9aa5b1", "font-size": 10, "text-anchor": "end" }); t.textContent = fmt(max * f); svg.appendChild(t);
    if (f > 0) svg.appendChild(el("line", { x1: x0, y1: y(max * f), x2: w, y2: y(max * f), stroke: "#263038" }));
  }
  const n = opts.steps || 90, step = (w - x0) / Math.max(1, n - 1);
  for (const [i, label] of [[0, "-15 min"], [Math.round(n / 3), "-10 min"], [Math.round(2 * n / 3), "-5 min"], [n - 1, "now"]]) {
    const t = el("text", { x: x0 + i * step, y: h - 6, fill: "#9aa5b1", "font-size": 10, "text-anchor": i === 0 ? "start" : i === n - 1 ? "end" : "middle" }); t.textContent = label; svg.appendChild(t);
  }
  if (clipped) { const t = el("text", { x: w - 2, y: 11, fill: "#fcc419", "font-size": 10, "text-anchor": "end", "data-role": "clip-label" }); t.textContent = "▲ clipped, max " + fmt(trueMax); svg.appendChild(t); }
  let points = 0;
  for (const s of series) {
    let d = "", pen = false;
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (v === null || v === undefined) { pen = false; continue; }
      const x = (x0 + i * step).toFixed(1), yy = y(v).toFixed(1);
      d += (pen ? "L" : "M") + x + " " + yy + " ";
      pen = true;
      points++;
      if (v > max) svg.appendChild(el("path", { d: "M" + x + " 1 l-4 7 h8 z", fill: s.color }));
      else svg.appendChild(el("circle", { cx: x, cy: yy, r: 2.2, fill: s.color }));
    }
    if (d) svg.appendChild(el("path", { d: d, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
  }
  if (opts.budget) svg.appendChild(el("line", { x1: x0, y1: y(opts.budget), x2: w, y2: y(opts.budget), stroke: colors.budget, "stroke-dasharray": "6 4", "data-series": "budget" }));
  svg.setAttribute("data-points", String(points));
}
function tierCard(name) {
  let card = document.getElementById("card-" + name);
  if (card) return card;
  card = document.createElement("div");
  card.className = "card"; card.id = "card-" + name;
  card.innerHTML = "<h2></h2><div class='legend'><span style='color:" + colors.p50 + "'>p50</span><span style='color:" + colors.p95 + "'>p95</span><span style='color:" + colors.p99 + "'>p99</span><span style='color:" + colors.budget + "'>budget</span></div>";
  card.querySelector("h2").textContent = "Latency " + name;
  card.appendChild(el("svg", { id: "chart-latency-" + name, class: "chart latency", "data-tier": name, "data-points": "0" }));
  document.getElementById("latency-grid").appendChild(card);
  return card;
}
function row(tbody, cells, attrs, cls) {
  const tr = document.createElement("tr");
  if (cls) tr.className = cls;
  for (const k in attrs || {}) tr.setAttribute(k, attrs[k]);
  for (const c of cells) { const td = document.createElement("td"); if (c && c.html !== undefined) { td.innerHTML = c.html; } else td.textContent = String(c); tr.appendChild(td); }
  tbody.appendChild(tr);
  return tr;
}
function body(id) { const t = document.querySelector("#" + id + " tbody"); t.innerHTML = ""; return t; }
function overBudget(m, budget) { return budget > 0 && m.count > 0 && m.p99 > budget; }
function tierRows(tbody, tiers, budgetOf, attr) {
  for (const name of Object.keys(tiers)) {
    const m = tiers[name].windows ? tiers[name].windows["1m"] : tiers[name], budget = budgetOf(name);
    const over = overBudget(m, budget);
    const a = {}; a[attr] = name; a["data-over-budget"] = String(over);
    const q = v => m.count ? ms(v) : "–";
    row(tbody, [name, budget ? ms(budget) : "–", q(m.p50), q(m.p95), q(m.p99), num(m.rps), pct(m.errorRate), m.unauthorized, m.rateLimited, m.shed, m.budgetCompliance.toFixed(1) + "%"], a, over ? "over" : "");
  }
}
function renderStatus(st) {
  const c = st.config || {}, r = st.redis || {}, b = st.backend || {}, br = st.breakers || {};
  let cfg = "<b>active</b> " + esc(c.version || "–") + "<br><b>file</b> " + esc(c.path || "–") +
    "<br><b>last load</b> " + esc(c.lastReloadResult || "–") + (c.lastReloadAt ? " at " + clock(c.lastReloadAt) : "") + (c.attemptedVersion ? " (" + esc(c.attemptedVersion) + ")" : "");
  if (c.lastRejected) {
    cfg += "<br><span class='bad'>last rejected " + esc(c.lastRejected.version || "(unreadable)") + " at " + clock(c.lastRejected.at) + "</span><ul class='errors'>";
    for (const e of c.lastRejected.errors || []) cfg += "<li>" + esc(e) + "</li>";
    cfg += "</ul>";
  } else cfg += "<br><b>rejected</b> none since start";
  document.querySelector("#status-config .kv").innerHTML = cfg;
  document.querySelector("#status-redis .kv").innerHTML = r.state === "not-reported" ? "not reported" :
    "<b>Redis</b> <span class='" + (r.available ? "ok'>available" : "bad'>unavailable") + "</span><br><b>invalidation subscription</b> <span class='" + (r.subscriptionConnected ? "ok'>connected" : "bad'>disconnected") + "</span>";
  document.querySelector("#status-backend .kv").innerHTML = b.state === "not-reported" ? "not reported" :
    "<span class='" + (b.healthy ? "ok'>healthy" : "bad'>unhealthy") + "</span> " + esc(b.detail || "") + (b.checkedAt ? "<br><b>checked</b> " + clock(b.checkedAt) : "");
  let brs = "";
  for (const s of br.states || []) brs += "<span data-breaker='" + esc(s.name) + "' class='" + (s.state === "closed" ? "ok" : s.state === "open" ? "bad" : "warn") + "'>" + esc(s.name) + ": " + s.state + "</span><br>";
  document.querySelector("#status-breakers .kv").innerHTML = brs || "none";
  // Each cluster destination as YARP's health checks see it (the status section 'clusters').
  const dt = body("destination-table"), cl = (st.clusters || {}).clusters || {};
  for (const c in cl) for (const d in cl[c].destinations) {
    const x = cl[c].destinations[d], cls = v => ({ html: "<span class='" + (v === "unhealthy" ? "bad" : v === "healthy" ? "ok" : "sub") + "'>" + esc(v) + "</span>" });
    row(dt, [c, d, x.address, cls(x.active), cls(x.passive), { html: x.available ? "<span class='ok'>yes</span>" : "<span class='bad'>no</span>" }, x.concurrentRequests],
      { "data-destination": c + "/" + d, "data-available": String(x.available) }, x.available ? "" : "over");
  }
}
function renderFleet(f, budgets) {
  const flag = document.getElementById("fleet-flag");
  document.getElementById("fleet").setAttribute("data-degraded", String(!!(f && f.degraded)));
  if (!f) { flag.textContent = ""; return; }
  flag.innerHTML = f.degraded ? "<span class='warn'>" + esc(f.degradedReason) + "</span>" : f.aggregate.instances + " live instance(s), reports every " + f.publishIntervalSeconds + " s, stale after " + f.staleAfterSeconds + " s";
  const tb = body("fleet-table");
  for (const i of f.instances) {
    const cells = [i.id + (i.self ? " (this)" : ""), { html: "<span class='" + i.state + "'>" + i.state + "</span>" }, age(i.ageSeconds)];
    if (i.windows) {
      const tiers = i.windows["1m"].tiers; let n = 0, e = 0, u = 0, r = 0, s = 0, worst = null;
      for (const t in tiers) { const m = tiers[t]; n += m.count; e += m.errors; u += m.unauthorized; r += m.rateLimited; s += m.shed;
        const b = budgets[t] || 0; if (b > 0 && m.count > 0 && (!worst || m.p99 / b > worst.ratio)) worst = { ratio: m.p99 / b, text: t + " " + ms(m.p99) + " / " + ms(b) }; }
      cells.push(n, num(n / 60), pct(n ? e / n : 0), u, r, s, worst ? { html: "<span class='" + (worst.ratio > 1 ? "over" : "ok") + "'>" + esc(worst.text) + "</span>" } : "–");
    } else cells.push("–", "–", "–", "–", "–", "–", "no figures");
    row(tb, cells, { "data-instance": i.id, "data-state": i.state }, i.state === "gone" ? "gone" : "");
  }
  tierRows(body("fleet-tiers"), f.aggregate.windows["1m"].tiers, t => budgets[t] || 0, "data-fleet-tier");
}
function renderValidate(v) {
  const tb = body("validate-table");
  const res = document.getElementById("validate-result");
  res.className = v.result === "fail" ? "fail" : v.result === "pass" ? "pass" : "sub";
  res.textContent = v.result === "fail" ? "FAIL (" + v.failures + " window(s) over budget)" : v.result === "pass" ? "PASS" : "no traffic yet";
  const add = (label, kind, key, x) => {
    const a = x.windows["1m"], b = x.windows["15m"];
    const verdict = r => ({ html: "<span class='" + r + "'>" + r + "</span>" });
    row(tb, [label, ms(x.budgetMs), a.count ? ms(a.p95) : "–", a.count ? ms(a.p99) : "–", a.count ? a.compliance.toFixed(1) + "%" : "–", verdict(a.result),
      b.count ? ms(b.p99) : "–", b.count ? b.compliance.toFixed(1) + "%" : "–", verdict(b.result)], { "data-validate": kind + ":" + key, "data-result-1m": a.result, "data-result-15m": b.result });
  };
  for (const t in v.tiers) add("tier " + t, "tier", t, v.tiers[t]);
  for (const c in v.routeClasses) add("  class " + c, "class", c, v.routeClasses[c]);
}
function render(stats) {
  document.getElementById("instance").textContent = stats.instance ? "· " + stats.instance : "";
  const budgets = {}; for (const t in stats.tiers) budgets[t] = stats.tiers[t].budgetMs;
  const steps = stats.history.steps || 90;
  tierRows(body("tier-table"), stats.tiers, t => budgets[t], "data-tier");
  for (const name of Object.keys(stats.tiers)) {
    const h = stats.history.tiers[name] || {};
    tierCard(name);
    draw(document.getElementById("chart-latency-" + name), [
      { name: "p50", color: colors.p50, values: dense(h.p50, steps, null) }, { name: "p95", color: colors.p95, values: dense(h.p95, steps, null) },
      { name: "p99", color: colors.p99, values: dense(h.p99, steps, null) }], { budget: budgets[name], clip: true, format: ms, steps: steps });
  }
  const ct = body("class-table");
  for (const name in stats.routeClasses) {
    const c = stats.routeClasses[name], m = c.windows["1m"], over = overBudget(m, c.budgetMs);
    row(ct, [name, c.tier, c.budgetMs ? ms(c.budgetMs) : "–", m.count ? ms(m.p95) : "–", m.count ? ms(m.p99) : "–", num(m.rps), pct(m.errorRate), m.unauthorized, m.rateLimited],
      { "data-class": name, "data-over-budget": String(over) }, over ? "over" : "");
  }
  const kt = body("cluster-table");
  for (const name in stats.clusters) {
    const m = stats.clusters[name].windows["1m"];
    row(kt, [name, ms(m.p50), ms(m.p95), ms(m.p99), num(m.rps), pct(m.errorRate), m.shed], { "data-cluster": name }, m.errorRate > 0.05 ? "over" : "");
  }
  const hist = stats.history, c = stats.cache["1m"];
  draw(document.getElementById("chart-throughput"), [{ name: "rps", color: colors.rps, values: dense(hist.rps, steps, 0) }], { steps: steps });
  draw(document.getElementById("chart-errors"), [{ name: "errors", color: colors.err, values: dense(hist.errorRate, steps, null).map(v => v === null ? null : v * 100) }],
    { steps: steps, format: v => v.toFixed(v < 10 ? 1 : 0) + "%" });
  const ratio = p => dense(p, steps, null).map(v => v === null ? null : v * 100);
  draw(document.getElementById("chart-cache"), [
    { name: "response", color: colors.resp, values: ratio(hist.responseHitRatio) }, { name: "session-l1", color: colors.l1, values: ratio(hist.sessionL1Ratio) },
    { name: "session-l2", color: colors.l2, values: ratio(hist.sessionL2Ratio) }, { name: "session-backend", color: colors.backend, values: ratio(hist.sessionBackendRatio) }],
    { max: 100, steps: steps, format: v => v.toFixed(0) + "%" });
  document.getElementById("legend-cache").innerHTML =
    "<span style='color:" + colors.resp + "'>response " + pct(c.response.lookups ? c.response.hitRatio : null) + "</span>" +
    "<span style='color:" + colors.l1 + "'>session L1 " + pct(c.session.validations ? c.session.l1.ratio : null) + "</span>" +
    "<span style='color:" + colors.l2 + "'>session L2 " + pct(c.session.validations ? c.session.l2.ratio : null) + "</span>" +
    "<span style='color:" + colors.backend + "'>session backend " + pct(c.session.validations ? c.session.backend.ratio : null) + "</span>";
  if (stats.status) renderStatus(stats.status);
  renderFleet(stats.fleet, budgets);
  let u = 0, r = 0, s = 0;
  for (const t in stats.tiers) { const m = stats.tiers[t].windows["1m"]; u += m.unauthorized; r += m.rateLimited; s += m.shed; }
  const meta = document.getElementById("meta");
  meta.textContent = "updated " + clock(stats.generatedAt) + " · last minute on this instance: " + num(stats.total.rps) + " req/s · errors " + pct(stats.total.errorRate) +
    " · 401: " + u + " · 429: " + r + " · shed: " + s;
  meta.setAttribute("data-state", "live");
}
async function poll() {
  try {
    const [r, v] = await Promise.all([fetch("/gateway/stats?scope=fleet", { cache: "no-store", credentials: "same-origin" }),
      fetch("/gateway/validate", { cache: "no-store", credentials: "same-origin" })]);
    if (r.ok) render(await r.json());
    else document.getElementById("meta").textContent = "stats: HTTP " + r.status;
    if (v.ok) renderValidate(await v.json());
  } catch (e) {
    document.getElementById("meta").textContent = "stats unreachable (" + e + ")";
  }
}
poll();
setInterval(poll, 2000);
""";
}
