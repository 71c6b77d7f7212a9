// Invocation: `ANY /r/:app/*path` runs a v1 route's function, `ANY /t/:app/*source` the fn of a v2 HTTP
// trigger and `POST /invoke/:fn_id` a v2 fn directly, all through the runner by one path. In its own
// plugin so that any body, of any content type, reaches the function as raw bytes. Answers carry Fn-Call-Id,
// Fn-Node, Fn-Container, Fn-Cold and XXX-FXLB-WAIT (the load signal fnlb reads), and a refusal of a
// call that never ran carries Fn-Refused: busy. Those are the node's own words: a route's headers or
// a function's answer cannot set or overwrite them.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatGoDuration } from '../../common/duration.js';
import { CONNECTION_HEADERS } from '../../common/hop-by-hop.js';
import { ulid } from '../../common/ulid.js';
import { type App, FN_HEADERS, FN_REFUSALS, type Route } from '../../common/wire.js';
import type { AppV2, Fn } from '../../common/wire-v2.js';
import { AnswerError } from '../answer-error.js';
import type { FnTarget } from '../datastore/route-cache.js';
import type { HeaderMap } from '../formats/index.js';
import { CallError, type Runner } from '../runner/index.js';

export interface RouteLookup {
  getApp(name: string): Promise<App | undefined>;
  getRoute(app: string, path: string): Promise<Route | undefined>;
  /** The fn an HTTP trigger of app `appName` with this source calls. */
  triggerTarget(appName: string, source: string): Promise<FnTarget>;
  fnTarget(fnId: string): Promise<FnTarget>;
}

export interface InvokeDeps {
  nodeId: string;
  routes: RouteLookup;
  runner: Pick<Runner, 'run'>;
}

/**
 * Not forwarded to the function and not taken from its response: they describe one connection, and
 * the node frames the body itself (content-length).
 */
const HOP_BY_HOP = new Set([...CONNECTION_HEADERS, 'content-length']);
/** The node's and the balancer's own response headers. */
const RESERVED = new Set<string>(Object.values(FN_HEADERS));

function requestHeaders(request: FastifyRequest): HeaderMap {
  const headers: HeaderMap = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = Array.isArray(value) ? value : [value];
  }
  return headers;
}

function validHeader(name: string, values: readonly string[]): boolean {
  try {
    validateHeaderName(name);
    for (const value of values) validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A function's (or an older route's) headers on the answer: connection fields and the node's own are
 * never taken, and a name or value HTTP cannot carry is dropped and logged, not a 500 after the call.
 */
function setHeaders(reply: FastifyReply, headers: HeaderMap, from: string): void {
  for (const [name, values] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || RESERVED.has(lower) || values.length === 0) continue;
    if (!validHeader(name, values)) {
      reply.log.warn({ header: name.slice(0, 100), from }, 'header dropped: not a valid HTTP header');
      continue;
    }
    // A one-element list as a plain string: fastify reads content-type only from a string.
    reply.header(name, values.length === 1 ? values[0] : values);
  }
}

/** What the runner runs for a v2 fn: a route-shaped definition in http-stream, its stats under `<app>/<fn>`. */
function fnDefinition(
  app: AppV2,
  fn: Fn,
): { app: App; route: Route; fn: { id: string; name: string; appId: string } } {
  return {
    app: { name: app.name, config: app.config },
    route: {
      app_name: app.name,
      path: `/${fn.name}`,
      image: fn.image,
      format: 'http-stream',
      type: 'sync',
      memory: fn.memory,
      timeout: fn.timeout,
      idle_timeout: fn.idle_timeout,
      cpus: '',
      config: fn.config,
      headers: {},
    },
    fn: { id: fn.id, name: fn.name, appId: app.id },
  };
}

function found(target: FnTarget): { app: AppV2; fn: Fn } {
  if ('missing' in target) throw new AnswerError(404, target.missing);
  return target;
}

/** The canonical path below an app (a route's path, a trigger's source): "/" and below, no trailing slash. */
function pathBelowApp(rest: string | undefined): string {
  return `/${rest ?? ''}`.replace(/(.)\/+$/, '$1');
}

export function invokeRoutes(deps: InvokeDeps) {
  /** Runs one call and writes its answer; the node's own headers go on every answer, failed or not. */
  async function call(
    request: FastifyRequest,
    reply: FastifyReply,
    arrivedAt: number,
    callId: string,
    target: { app: App; route: Route; fn?: { id: string; name: string; appId: string }; invoke?: boolean },
  ) {
    const lookupMs = performance.now() - arrivedAt;
    // The response closing before it was written: the client went away, and its call with it.
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    try {
      const result = await deps.runner.run({
        signal: gone.signal,
        id: callId,
        app: target.app,
        route: target.route,
        ...(target.fn ? { fn: target.fn } : {}),
        ...(target.invoke ? { invoke: true } : {}),
        method: request.method,
        requestUrl: `${request.protocol}://${request.host}${request.url}`,
        headers: requestHeaders(request),
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      });
      // Route headers first, so the function's own override them (as Fn did).
      setHeaders(reply, target.route.headers, 'route');
      setHeaders(reply, result.headers, 'function');
      reply
        .header(FN_HEADERS.container, result.containerId)
        .header(FN_HEADERS.cold, String(result.cold))
        .header(FN_HEADERS.wait, formatGoDuration(lookupMs + result.waitMs, 'us'));
      return reply.code(result.status).send(result.body);
    } catch (error) {
      if (!(error instanceof CallError)) throw error;
      if (error.containerId) reply.header(FN_HEADERS.container, error.containerId);
      if (error.refused) reply.header(FN_HEADERS.refused, FN_REFUSALS.busy);
      throw error;
    }
  }

  /** The start of every call: its id and the node's name on the answer, and when it arrived. */
  function begin(reply: FastifyReply): { arrivedAt: number; callId: string } {
    const callId = ulid();
    reply.header(FN_HEADERS.callId, callId).header(FN_HEADERS.node, deps.nodeId);
    return { arrivedAt: performance.now(), callId };
  }

  return async (api: FastifyInstance) => {
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    api.all<{ Params: { app: string; '*': string } }>('/r/:app/*', async (request, reply) => {
      const { arrivedAt, callId } = begin(reply);
      const appName = request.params.app;
      const path = pathBelowApp(request.params['*']);
      const [app, route] = await Promise.all([
        deps.routes.getApp(appName),
        deps.routes.getRoute(appName, path),
      ]);
      if (app === undefined) throw new AnswerError(404, 'App not found');
      if (route === undefined) throw new AnswerError(404, 'Route not found');
      return call(request, reply, arrivedAt, callId, { app, route });
    });

    const trigger = async (
      request: FastifyRequest<{ Params: { app: string; '*'?: string } }>,
      reply: FastifyReply,
    ) => {
      const { arrivedAt, callId } = begin(reply);
      const { app, fn } = found(
        await deps.routes.triggerTarget(request.params.app, pathBelowApp(request.params['*'])),
      );
      return call(request, reply, arrivedAt, callId, fnDefinition(app, fn));
    };
    api.all('/t/:app', trigger);
    api.all('/t/:app/*', trigger);

    api.post<{ Params: { fn_id: string } }>('/invoke/:fn_id', async (request, reply) => {
      const { arrivedAt, callId } = begin(reply);
      const { app, fn } = found(await deps.routes.fnTarget(request.params.fn_id));
      return call(request, reply, arrivedAt, callId, { ...fnDefinition(app, fn), invoke: true });
    });
  };
}
