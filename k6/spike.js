// spike: 100 → 1,000 → 100 VUs. The gateway must shed or absorb, never fall over.
import { sleep } from 'k6';
import { journey, thresholds } from './lib/journey.js';

export const options = {
  stages: [
    { duration: '1m', target: 100 },
    { duration: '30s', target: 1000 },
    { duration: '2m', target: 1000 },
    { duration: '30s', target: 100 },
    { duration: '2m', target: 100 },
    { duration: '30s', target: 0 },
  ],
  thresholds,
};

export default function () {
  journey(5);
  sleep(30);
}
