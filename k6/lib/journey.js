// The real user journey through the gateway, shared by every scenario.
// Environment: BASE_URL (default http://127.0.0.1:8080), PASSWORD (default a 20-char test password),
// EMAIL_DOMAIN (default k6.example.com).
import http from 'k6/http';
import { check, group } from 'k6';
import { Rate } from 'k6/metrics';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const PASSWORD = __ENV.PASSWORD || 'k6-load-password-0123';
const DOMAIN = __ENV.EMAIL_DOMAIN || 'k6.example.com';
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export const journeyErrors = new Rate('journey_errors');

// Per-endpoint p95 targets (ms) and the error-rate target; tagged by `endpoint` in every request.
export const thresholds = {
  'http_req_duration{endpoint:register}': ['p(95)<500'],
  'http_req_duration{endpoint:login}': ['p(95)<200'],
  'http_req_duration{endpoint:me}': ['p(95)<100'],
  'http_req_duration{endpoint:logout}': ['p(95)<100'],
  'http_req_duration{endpoint:profile}': ['p(95)<150'],
  http_req_failed: ['rate<0.001'],
  journey_errors: ['rate<0.001'],
};

function ok(res, name, status) {
  const passed = check(res, { [`${name} ${status}`]: (r) => r.status === status });
  journeyErrors.add(!passed);
  return passed;
}

export function journey(meCalls = 5) {
  const email = `k6-${__VU}-${__ITER}-${Date.now()}@${DOMAIN}`;
  group('register', () => {
    const res = http.post(`${BASE_URL}/auth/register`, JSON.stringify({ email, password: PASSWORD, name: `VU ${__VU}` }),
      { headers: JSON_HEADERS, tags: { endpoint: 'register' } });
    ok(res, 'register', 201);
  });

  let token = null;
  group('login', () => {
    const res = http.post(`${BASE_URL}/auth/login`, JSON.stringify({ email, password: PASSWORD }),
      { headers: JSON_HEADERS, tags: { endpoint: 'login' } });
    if (ok(res, 'login', 200)) token = res.json('token');
  });
  if (!token) return;
  const auth = { headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } };

  group('me', () => {
    for (let i = 0; i < meCalls; i++) ok(http.get(`${BASE_URL}/auth/me`, { ...auth, tags: { endpoint: 'me' } }), 'me', 200);
  });
  group('profile', () => {
    ok(http.put(`${BASE_URL}/users/profile`, JSON.stringify({ name: `VU ${__VU} renamed` }), { ...auth, tags: { endpoint: 'profile' } }), 'profile', 200);
  });
  group('sessions', () => {
    ok(http.get(`${BASE_URL}/users/me/sessions`, { ...auth, tags: { endpoint: 'sessions' } }), 'sessions', 200);
  });
  group('logout', () => {
    ok(http.post(`${BASE_URL}/auth/logout`, null, { ...auth, tags: { endpoint: 'logout' } }), 'logout', 204);
  });
  group('token is dead', () => {
    // Expected 401: tell k6 not to count it as a failed request.
    const res = http.get(`${BASE_URL}/auth/me`, { ...auth, tags: { endpoint: 'me-after-logout' },
      responseCallback: http.expectedStatuses(401) });
    ok(res, 'me after logout', 401);
  });
}
