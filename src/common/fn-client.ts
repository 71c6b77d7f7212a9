// A small Fn v1 API client on undici, shared by the fnlb-harness CLI (so it lives in src/ and ships in
// dist/) and the test helpers, which re-export it. Every call has a deadline; errors keep the server's
// `{"error":{"message"}}` so tests can assert on it.
import { type Agent, request } from 'undici';
import type { App, AppResponse, NodeStats, Route, RouteBody, RouteResponse } from './wire.js';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class FnApiError extends Error {
  override readonly name = 'FnApiError';
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body}`);
  }
}

export interface FnClientOptions {
  timeoutMs?: number;
  dispatcher?: Agent;
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

export class FnClient {
  private readonly timeoutMs: number;
  private readonly dispatcher: Agent | undefined;

  /** `base` is `http://host:port` of a node or a balancer. */
  constructor(
    readonly base: string,
    options: FnClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.dispatcher = options.dispatcher;
  }

  /** Any request; never throws on HTTP status, only on transport failure or deadline. */
  async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResult> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const response = await request(`${this.base}${path}`, {
      method: method as 'GET',
      headers:
        payload !== undefined && !('content-type' in headers)
          ? { 'content-type': 'application/json', ...headers }
          : headers,
      body: payload,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs + 1000),
      ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
    });
    return {
      status: response.statusCode,
      headers: flatten(response.headers),
      body: await response.body.text(),
    };
  }

  /** A request that must answer 200 with JSON; anything else is an FnApiError naming `what`. */
  async expectJson<T>(what: string, method: string, path: string, body?: unknown): Promise<T> {
    const result = await this.send(method, path, body);
    if (result.status !== 200) throw new FnApiError(result.status, result.body, what);
    return JSON.parse(result.body) as T;
  }

  async createApp(name: string, config: Record<string, string> = {}): Promise<App> {
    return (
      await this.expectJson<AppResponse>(`create app ${name}`, 'POST', '/v1/apps', { app: { name, config } })
    ).app;
  }

  async deleteApp(name: string): Promise<void> {
    await this.expectJson(`delete app ${name}`, 'DELETE', `/v1/apps/${encodeURIComponent(name)}`);
  }

  async createRoute(app: string, route: RouteBody['route'] & { path: string }): Promise<Route> {
    const path = `/v1/apps/${encodeURIComponent(app)}/routes`;
    return (await this.expectJson<RouteResponse>(`create route ${app}${route.path}`, 'POST', path, { route }))
      .route;
  }

  async upsertRoute(app: string, route: RouteBody['route'] & { path: string }): Promise<Route> {
    const path = `/v1/apps/${encodeURIComponent(app)}/routes${route.path}`;
    return (await this.expectJson<RouteResponse>(`upsert route ${app}${route.path}`, 'PUT', path, { route }))
      .route;
  }

  async getRoute(app: string, routePath: string): Promise<Route> {
    const path = `/v1/apps/${encodeURIComponent(app)}/routes${routePath}`;
    return (await this.expectJson<RouteResponse>(`get route ${app}${routePath}`, 'GET', path)).route;
  }

  async deleteRoute(app: string, routePath: string): Promise<void> {
    const path = `/v1/apps/${encodeURIComponent(app)}/routes${routePath}`;
    await this.expectJson(`delete route ${app}${routePath}`, 'DELETE', path);
  }

  /** A node's own counters (GET /stats). */
  async stats(): Promise<NodeStats> {
    return this.expectJson<NodeStats>(`GET /stats on ${this.base}`, 'GET', '/stats');
  }

  /** Invokes `/r/<app><path><query>`. */
  call(app: string, routePath: string, query = '', body?: string): Promise<HttpResult> {
    return this.send(body === undefined ? 'GET' : 'POST', `/r/${app}${routePath}${query}`, body, {});
  }
}
