// peak: 500 VUs, about 5,000 requests/min overall.
import { sleep } from 'k6';
import { journey, thresholds } from './lib/journey.js';

export const options = {
  stages: [
    { duration: '2m', target: 500 },
    { duration: __ENV.DURATION || '5m', target: 500 },
    { duration: '1m', target: 0 },
  ],
  thresholds,
};

export default function () {
  journey(5);
  sleep(60); // 500 VUs × ~11 requests per ~61 s ≈ 5,000 requests/min
}
