// session-validation: 50,000 validated requests/min (≈833/s) of GET /auth/me with pre-made sessions.
// Setup registers and logs in USERS users (default 50); each request picks one token.
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL } from './lib/journey.js';

const USERS = parseInt(__ENV.USERS || '50', 10);
const PASSWORD = __ENV.PASSWORD || 'k6-load-password-0123';

export const options = {
  scenarios: {
    validated: {
      executor: 'constant-arrival-rate',
      rate: 50000, timeUnit: '1m',
      duration: __ENV.DURATION || '5m',
      preAllocatedVUs: 100, maxVUs: 400,
    },
  },
  thresholds: {
    'http_req_duration{endpoint:me}': ['p(95)<100'],
    http_req_failed: ['rate<0.001'],
  },
};

export function setup() {
  const tokens = [];
  for (let i = 0; i < USERS; i++) {
    const email = `k6-sv-${i}-${Date.now()}@k6.example.com`;
    const body = JSON.stringify({ email, password: PASSWORD, name: `SV ${i}` });
    http.post(`${BASE_URL}/auth/register`, body, { headers: { 'Content-Type': 'application/json' } });
    const res = http.post(`${BASE_URL}/auth/login`, JSON.stringify({ email, password: PASSWORD }),
      { headers: { 'Content-Type': 'application/json' } });
    if (res.status === 200) tokens.push(res.json('token'));
  }
  if (tokens.length === 0) throw new Error('no session could be created: is the stack up at ' + BASE_URL + '?');
  return { tokens };
}

export default function (data) {
  const token = data.tokens[Math.floor(Math.random() * data.tokens.length)];
  const res = http.get(`${BASE_URL}/auth/me`, { headers: { Authorization: `Bearer ${token}` }, tags: { endpoint: 'me' } });
  check(res, { 'me 200': (r) => r.status === 200 });
}
