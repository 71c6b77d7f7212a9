// fnguard/sleep: waits `?ms=N` milliseconds (default 0) per call, then says who ran it. Slow calls
// for scale-out tests; a sleep longer than the route's timeout is a hung function.
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonResponse, serve } from './fdk.js';

serve(async (request) => {
  const ms = Number(request.url.searchParams.get('ms') ?? '0');
  if (!Number.isFinite(ms) || ms < 0) return jsonResponse({ error: { message: 'ms must be >= 0' } }, 400);
  await sleep(ms);
  return jsonResponse({
    sleptMs: ms,
    hostname: process.env.HOSTNAME ?? '',
    container: process.env.FN_CONTAINER_ID ?? '',
  });
});
