// localhost/fnlb-guard/hostile: a function that misbehaves in the ways a node must survive, chosen by `?do=`:
//   early-hints  writes a 103 Early Hints head before its answer (http format)
//   bad-header   answers with a header value HTTP cannot carry (a control character)
//   reserved     answers with the node's own headers (Fn-Node, Fn-Call-Id, Fn-Container, Fn-Cold) set
//   headers      answers the request headers it received, as JSON
//   flood        answers a body of `&bytes=N` bytes
//   object-names answers headers named like Object.prototype's members (constructor, __proto__,
//                toString): a reader that kept headers on a plain object threw on them
//   garbage      writes `&bytes=M` pseudo-random bytes from `&seed=N` (the same bytes for the same
//                seed) to stdout instead of an answer, then stays alive without answering
// Anything else answers "ok".
// In http-stream, the route's config HOSTILE_LINK=outside|absolute makes it misbehave at start instead:
// it links lsnr.sock out of its directory (`../escaped.sock`) or to an absolute path, a link a runner
// must refuse, and then waits to be stopped.
import { symlinkSync } from 'node:fs';
import { type Handler, jsonResponse, serve } from './fdk.js';
import { listenerPath } from './http-stream.js';
import { pseudoRandomBytes } from './pseudo-random.js';

/** Never settles, and keeps the process alive: a function that hangs after what it wrote. */
function hang(): Promise<never> {
  setInterval(() => {}, 1 << 30);
  return new Promise<never>(() => {});
}

/** Links lsnr.sock where a runner must not follow, then lives until SIGTERM. */
function linkOutside(how: string): void {
  const target = how === 'absolute' ? '/var/run/docker.sock' : '../escaped.sock';
  symlinkSync(target, listenerPath(process.env.FN_LISTENER));
  setInterval(() => {}, 1 << 30);
  process.once('SIGTERM', () => process.exit(0));
}

const handler: Handler = (request) => {
  const action = request.url.searchParams.get('do');
  switch (action) {
    case 'early-hints':
      process.stdout.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
      return { body: 'after the hints' };
    case 'bad-header':
      return { headers: { 'x-bad': 'a\u0001b', 'x-good': 'kept' }, body: 'bad header' };
    case 'reserved':
      return {
        headers: {
          'fn-node': 'forged',
          'fn-call-id': 'forged',
          'fn-container': 'forged',
          'fn-cold': 'forged',
        },
        body: 'reserved',
      };
    case 'headers':
      return jsonResponse(request.headers);
    case 'flood':
      return { body: Buffer.alloc(Number(request.url.searchParams.get('bytes') ?? '0'), 'x') };
    case 'object-names':
      return {
        // fromEntries: a literal `__proto__:` would set the prototype instead of naming a header.
        headers: Object.fromEntries([
          ['constructor', 'c'],
          ['__proto__', 'p'],
          ['toString', 't'],
          ['x-good', 'kept'],
        ]),
        body: 'object names',
      };
    case 'garbage': {
      const seed = Number(request.url.searchParams.get('seed') ?? '1');
      const count = Math.min(Number(request.url.searchParams.get('bytes') ?? '1024'), 16 * 1024 * 1024);
      process.stdout.write(pseudoRandomBytes(seed, Number.isFinite(count) ? count : 1024));
      return hang();
    }
    default:
      return { body: 'ok' };
  }
};

const hostileLink = process.env.HOSTILE_LINK;
if (process.env.FN_FORMAT === 'http-stream' && hostileLink) linkOutside(hostileLink);
else serve(handler);
