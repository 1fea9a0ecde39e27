// smoke: 1 VU for 30 s. Does the whole journey work at all?
import { sleep } from 'k6';
import { journey, thresholds } from './lib/journey.js';

export const options = { vus: 1, duration: __ENV.DURATION || '30s', thresholds };

export default function () {
  journey(3);
  sleep(1);
}
