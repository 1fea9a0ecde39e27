// Sends one request per line of TOKENS_FILE (a single-use credential, e.g. a session to log out) from CONCURRENCY
// keep-alive connections, and prints the latency percentiles and the responses by status, in endpoint.lua's format.
// One process with pooled connections: the 50 parallel curl processes it replaces spent more CPU starting up than the
// requests cost, on the same two cores as the stack they measured.
//
//   node bench/clients/single-use.mjs URL METHOD TOKENS_FILE [CONCURRENCY] [--warm WARM_URL COUNT]
//
// --warm first sends COUNT untimed GETs to WARM_URL (a cheap endpoint such as the gateway's /health) over the same
// connections, at the same concurrency. A cold client measured itself: opening its 50 connections and compiling its own
// request path (V8) on the two cores the stack shares made the first timed requests wait (ten pairs of bursts of 300
// logouts on one stack: median p95 162 ms cold, 121 ms warmed, lower warmed in 7 of the 10 pairs; docs/performance.md,
// "Seventh pass"). It prints WARM COUNT STATUSES; any answer but 200 fails the run.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const args = process.argv.slice(2);
const warmAt = args.indexOf('--warm');
const [warmUrl, warmCount] = warmAt >= 0 ? [args[warmAt + 1], Number(args[warmAt + 2])] : [null, 0];
if (warmAt >= 0) args.splice(warmAt, 3);
if (warmAt >= 0 && !(warmUrl && warmCount > 0)) { console.error('--warm needs a URL and a positive count'); process.exit(2); }
const [url, method, tokensFile, concurrency = '50'] = args;
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const latencies = [];
const statuses = {};

function send(token) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = request(url, { method, agent, headers: { Authorization: `Bearer ${token}`, 'Content-Length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        resolve();
      });
    });
    req.on('error', () => { statuses.error = (statuses.error ?? 0) + 1; resolve(); });
    req.end();
  });
}

if (warmUrl) {
  const warmStatuses = {};
  const warmOne = () => new Promise((resolve) => {
    const req = request(warmUrl, { agent }, (res) => {
      res.resume();
      res.on('end', () => { warmStatuses[res.statusCode] = (warmStatuses[res.statusCode] ?? 0) + 1; resolve(); });
    });
    req.on('error', () => { warmStatuses.error = (warmStatuses.error ?? 0) + 1; resolve(); });
    req.end();
  });
  let sent = 0;
  await Promise.all(Array.from({ length: Number(concurrency) }, async () => { while (sent++ < warmCount) await warmOne(); }));
  console.log(`WARM ${warmCount} ${Object.entries(warmStatuses).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (Object.keys(warmStatuses).some((status) => status !== '200')) process.exit(1);
}

let next = 0;
async function worker() { while (next < tokens.length) await send(tokens[next++]); }
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
agent.destroy();

latencies.sort((a, b) => a - b);
const at = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * p) - 1)] : NaN;
console.log(`COUNT ${latencies.length}`);
console.log(`PCTL ${at(0.5).toFixed(2)} ${at(0.95).toFixed(2)} ${at(0.99).toFixed(2)}`);
console.log(`STATUSES ${Object.entries(statuses).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
