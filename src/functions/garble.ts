// localhost/fnlb-guard/garble: answers bytes that break the framing of its format and then stays alive, so the
// node must notice the protocol error itself and retire the container. In the default format there
// is no framing to break: the garbage is simply the body.
import { serve } from './fdk.js';

serve(() => {
  process.stdout.write('<<this is not the framing you expected>>\r\n\r\n');
  if (process.env.FN_FORMAT === 'default') return { body: '' };
  return new Promise(() => {});
});
