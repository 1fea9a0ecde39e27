// load: 100 VUs, about 1,000 requests/min overall (each journey is ~11 requests, then a pause).
import { sleep } from 'k6';
import { journey, thresholds } from './lib/journey.js';

export const options = {
  stages: [
    { duration: '1m', target: 100 },
    { duration: __ENV.DURATION || '5m', target: 100 },
    { duration: '30s', target: 0 },
  ],
  thresholds,
};

export default function () {
  journey(5);
  sleep(60); // 100 VUs × ~11 requests per ~61 s ≈ 1,000 requests/min
}
