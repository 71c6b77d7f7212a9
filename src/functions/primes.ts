// localhost/fnlb-guard/primes: counts the primes up to `max` (default 1000000) with a sieve of Eratosthenes,
// `loops` times (default 1), and says which node and container ran it.
import { jsonResponse, serve } from './fdk.js';
import { countPrimes } from './sieve.js';

const LIMITS = { max: 100_000_000, loops: 1000 } as const;

function intParam(url: URL, name: 'max' | 'loops', fallback: number): number | string {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > LIMITS[name])
    return `${name} must be an integer in 1..${LIMITS[name]}`;
  return value;
}

serve((request) => {
  const max = intParam(request.url, 'max', 1_000_000);
  const loops = intParam(request.url, 'loops', 1);
  if (typeof max === 'string' || typeof loops === 'string') {
    return jsonResponse({ error: { message: typeof max === 'string' ? max : loops } }, 400);
  }
  const started = performance.now();
  let count = 0;
  for (let i = 0; i < loops; i++) count = countPrimes(max);
  return jsonResponse({
    durationSeconds: (performance.now() - started) / 1000,
    hostname: process.env.HOSTNAME ?? '',
    container: process.env.FN_CONTAINER_ID ?? '',
    max,
    loops,
    count,
  });
});
