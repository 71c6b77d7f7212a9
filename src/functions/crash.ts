// localhost/fnlb-guard/crash: starts a response in its format, then exits mid-call with status 3, as a function
// that dies would. `?ok=1` answers normally instead, so a test can show that the call after a crash
// gets a fresh, working container.
import { jsonResponse, serve } from './fdk.js';

const PARTIAL: Record<string, string> = {
  http: 'HTTP/1.1 200 OK\r\nContent-Le',
  json: '{"body":"half an ans',
  default: 'half an ans',
};

serve((request) => {
  if (request.url.searchParams.get('ok') === '1') {
    return jsonResponse({ container: process.env.FN_CONTAINER_ID ?? '' });
  }
  process.stdout.write(PARTIAL[process.env.FN_FORMAT ?? 'default'] ?? '', () => process.exit(3));
  return new Promise(() => {});
});
