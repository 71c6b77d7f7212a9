// Calls to a driver's instance in the http format, read with the node's own codec: for tests that drive
// a driver directly, without a node in front.
import { randomBytes } from 'node:crypto';
import type { Instance } from '../../../src/node/drivers/driver.js';
import { type FunctionRequest, formatCodec } from '../../../src/node/formats/index.js';

export function request(url: string, body = ''): FunctionRequest {
  return {
    callId: randomBytes(4).toString('hex'),
    method: 'POST',
    requestUrl: url,
    headers: { 'content-type': ['text/plain'] },
    body: Buffer.from(body),
    deadline: new Date(Date.now() + 30_000),
  };
}

/** One call over a hot http-format container, read with the node's own codec. */
export async function callHttp(instance: Instance, url: string) {
  const codec = formatCodec('http');
  const reader = codec.createReader();
  const response = new Promise<ReturnType<typeof reader.push>>((resolve) => {
    const onData = (chunk: Buffer) => {
      const done = reader.push(chunk);
      if (done) {
        instance.stdout.off('data', onData);
        resolve(done);
      }
    };
    instance.stdout.on('data', onData);
  });
  instance.stdin.write(codec.encodeRequest(request(url)));
  return response;
}
