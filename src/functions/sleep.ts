// localhost/fnlb-guard/sleep: waits `?ms=N` milliseconds (default 0) per call, then says who ran it, with the status
// `?status=N` (default 200). Slow calls for scale-out tests; a sleep longer than the route's timeout
// is a hung function; a 503 of its own is what a balancer must not take for a busy node.
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonResponse, serve } from './fdk.js';

serve(async (request) => {
  const ms = Number(request.url.searchParams.get('ms') ?? '0');
  if (!Number.isFinite(ms) || ms < 0) return jsonResponse({ error: { message: 'ms must be >= 0' } }, 400);
  const status = Number(request.url.searchParams.get('status') ?? '200');
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return jsonResponse({ error: { message: 'status must be 200..599' } }, 400);
  }
  await sleep(ms);
  const answer = {
    sleptMs: ms,
    hostname: process.env.HOSTNAME ?? '',
    container: process.env.FN_CONTAINER_ID ?? '',
  };
  return jsonResponse(answer, status);
});
