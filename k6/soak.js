// soak: 100 VUs for hours. DURATION is the steady-state length (default 2h), e.g. DURATION=8h k6 run soak.js
import { sleep } from 'k6';
import { journey, thresholds } from './lib/journey.js';

export const options = {
  stages: [
    { duration: '2m', target: 100 },
    { duration: __ENV.DURATION || '2h', target: 100 },
    { duration: '2m', target: 0 },
  ],
  thresholds,
};

export default function () {
  journey(5);
  sleep(60);
}
