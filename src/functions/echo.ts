// localhost/fnlb-guard/echo: answers the request body with its content type. `?env=A,B` answers instead the
// JSON object of those environment variables, so tests can see what the node gave the function.
import { jsonResponse, serve } from './fdk.js';

serve((request) => {
  const names = request.url.searchParams.get('env');
  if (names !== null) {
    return jsonResponse(
      Object.fromEntries(names.split(',').map((name) => [name, process.env[name] ?? null])),
    );
  }
  const contentType = request.headers['content-type']?.[0];
  return { body: request.body, headers: contentType ? { 'content-type': contentType } : {} };
});
