// Sends one request per line of TOKENS_FILE (a single-use credential, e.g. a session to log out) from CONCURRENCY
// keep-alive connections, and prints the latency percentiles and the responses by status, in endpoint.lua's format.
// One process with pooled connections: the 50 parallel curl processes it replaces spent more CPU starting up than the
// requests cost, on the same two cores as the stack they measured.
//
//   node bench/clients/single-use.mjs URL METHOD TOKENS_FILE [CONCURRENCY]
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const [url, method, tokensFile, concurrency = '50'] = process.argv.slice(2);
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

let next = 0;
async function worker() { while (next < tokens.length) await send(tokens[next++]); }
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
agent.destroy();

latencies.sort((a, b) => a - b);
const at = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * p) - 1)] : NaN;
console.log(`COUNT ${latencies.length}`);
console.log(`PCTL ${at(0.5).toFixed(2)} ${at(0.95).toFixed(2)} ${at(0.99).toFixed(2)}`);
console.log(`STATUSES ${Object.entries(statuses).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
