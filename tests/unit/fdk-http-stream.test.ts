// The http-stream format's mapping between a runner's call and what a handler sees: an HTTP trigger's
// call carries the caller's method, URL and headers as Fn-Http-*, and the handler's status and headers
// go back inside a 200; a call invoked by id is the request as it came.
import { describe, expect, it } from 'vitest';
import {
  callAnswerHeaders,
  callRequest,
  listenerPath,
  socketPathBeside,
} from '../../src/functions/http-stream.js';

describe('http-stream calls', () => {
  it("gives an HTTP trigger's handler the caller's method, URL (with its query) and headers", () => {
    const request = callRequest('POST', '/call', {
      'fn-call-id': ['01CALL'],
      'fn-intent': ['httprequest'],
      'fn-deadline': ['2026-12-07T12:00:00Z'],
      'fn-http-method': ['PUT'],
      'fn-http-request-url': ['http://lb.example/t/app/primes?n=1000'],
      'fn-http-h-x-trace': ['a', 'b'],
      'fn-http-h-': ['the bare prefix names no header'],
      'content-type': ['text/plain'],
    });
    expect(request.callId).toBe('01CALL');
    expect(request.method).toBe('PUT');
    expect(request.url.pathname).toBe('/t/app/primes');
    expect(request.url.searchParams.get('n')).toBe('1000');
    expect(request.headers).toEqual({ 'x-trace': ['a', 'b'], 'content-type': ['text/plain'] });
  });

  it('gives a call invoked by id its request as it came', () => {
    const headers = { 'fn-call-id': ['01CALL'], 'content-type': ['application/json'] };
    const request = callRequest('POST', '/call', headers);
    expect(request.method).toBe('POST');
    expect(request.url.pathname).toBe('/call');
    expect(request.headers).toBe(headers);
  });

  it("answers a trigger's call with the user's status and headers inside a 200", () => {
    const answer = {
      status: 503,
      headers: { 'content-type': 'application/json', 'x-node': 'n1' },
      body: '{}',
    };
    expect(callAnswerHeaders(answer, true)).toEqual({
      'Fn-Http-Status': '503',
      'Content-Type': 'application/json',
      'Fn-Http-H-x-node': 'n1',
    });
    expect(callAnswerHeaders({ body: '' }, true)).toEqual({ 'Fn-Http-Status': '200' });
    expect(callAnswerHeaders(answer, false)).toEqual({ 'content-type': 'application/json', 'x-node': 'n1' });
  });

  it('reads the socket path of FN_LISTENER and refuses anything else, naming it', () => {
    expect(listenerPath('unix:/tmp/iofs/lsnr.sock')).toBe('/tmp/iofs/lsnr.sock');
    for (const bad of [undefined, '', 'tcp://127.0.0.1:8080', 'unix:relative.sock', '/tmp/iofs/lsnr.sock']) {
      expect(() => listenerPath(bad)).toThrow(/FN_LISTENER/);
    }
  });

  it('listens under a name that fits a unix socket address, or says the directory is too long', () => {
    expect(socketPathBeside('/tmp/iofs/lsnr.sock', 7)).toBe('/tmp/iofs/fdk-7-lsnr.sock');
    const deep = `/${'d'.repeat(90)}/lsnr.sock`;
    expect(socketPathBeside(deep, 1234)).toBe(`/${'d'.repeat(90)}/.fdk1234`);
    expect(() => socketPathBeside(`/${'d'.repeat(120)}/lsnr.sock`, 1)).toThrow(/too long for a unix socket/);
  });
});
