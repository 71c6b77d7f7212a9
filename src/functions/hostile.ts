// fnguard/hostile: a function that misbehaves in the ways a node must survive, chosen by `?do=`:
//   early-hints  writes a 103 Early Hints head before its answer (http format)
//   bad-header   answers with a header value HTTP cannot carry (a control character)
//   reserved     answers with the node's own headers (Fn-Node, Fn-Call-Id, Fn-Container, Fn-Cold) set
//   headers      answers the request headers it received, as JSON
//   flood        answers a body of `&bytes=N` bytes
// Anything else answers "ok".
import { jsonResponse, serve } from './fdk.js';

serve((request) => {
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
    default:
      return { body: 'ok' };
  }
});
