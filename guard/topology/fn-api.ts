// The two Fn APIs a deployment may offer, as the guard uses them, so every property is judged the same
// way on both: an app per guard file, a "route" per path (v1: a route; v2: a fn named after the path
// with an HTTP trigger whose source is the path), the path a call takes, the key the node counts it
// under, and removing the app with everything in it afterwards. Which API a deployment offers is asked,
// not assumed (offeredApis), or set (--api).
import { createHash } from 'node:crypto';
import type { FnClient } from '../../src/common/fn-client.js';
import type { RouteBody } from '../../src/common/wire.js';
import type { AppV2, Fn, Page } from '../../src/common/wire-v2.js';

export type FnApiVersion = 'v1' | 'v2';
export const FN_API_CHOICES = ['auto', 'v1', 'v2'] as const;
export type FnApiChoice = (typeof FN_API_CHOICES)[number];

/** A route as the properties describe it; on v2, `format`, `type`, `cpus` and `headers` do not apply. */
export type RouteSpec = RouteBody['route'] & { path: string };

export interface FnApi {
  readonly version: FnApiVersion;
  createApp(app: string): Promise<void>;
  createRoute(app: string, route: RouteSpec): Promise<void>;
  /** Removes the app and everything in it; an app that is gone already is fine. */
  deleteApp(app: string): Promise<void>;
  /** The path that invokes the route through a balancer or a node. */
  invokePath(app: string, path: string): string;
  /** The key a node's GET /stats counts the route's calls under. */
  statsKey(app: string, path: string): string;
}

/**
 * A fn's (and its trigger's) name for a route path: letters, digits, "_" and "-", which both allow.
 * A path that needed changing gets a short hash of itself, so `/a/b` and `/a_b` stay two fns.
 */
export function fnName(path: string): string {
  const plain = path.replace(/^\/+/, '');
  const name = plain.replace(/[^A-Za-z0-9_-]/g, '_');
  if (name === plain && name !== '') return name;
  return `${name || 'root'}-${createHash('sha256').update(path).digest('hex').slice(0, 6)}`;
}

class V1Api implements FnApi {
  readonly version = 'v1';
  constructor(private readonly client: FnClient) {}

  async createApp(app: string): Promise<void> {
    await this.client.createApp(app);
  }

  async createRoute(app: string, route: RouteSpec): Promise<void> {
    await this.client.createRoute(app, route);
  }

  async deleteApp(app: string): Promise<void> {
    await this.client.deleteApp(app);
  }

  invokePath(app: string, path: string): string {
    return `/r/${app}${path}`;
  }

  statsKey(app: string, path: string): string {
    return `${app}${path}`;
  }
}

class V2Api implements FnApi {
  readonly version = 'v2';
  /** Apps by name, as created: v2 names its records by id. */
  private readonly ids = new Map<string, string>();

  constructor(private readonly client: FnClient) {}

  private async appId(app: string): Promise<string | undefined> {
    const known = this.ids.get(app);
    if (known !== undefined) return known;
    const listed = await this.client.expectJson<Page<AppV2>>(
      `find app ${app}`,
      'GET',
      `/v2/apps?name=${encodeURIComponent(app)}`,
    );
    return listed.items[0]?.id;
  }

  async createApp(app: string): Promise<void> {
    const created = await this.client.expectJson<AppV2>(`create app ${app}`, 'POST', '/v2/apps', {
      name: app,
    });
    this.ids.set(app, created.id);
  }

  async createRoute(app: string, route: RouteSpec): Promise<void> {
    const appId = await this.appId(app);
    if (appId === undefined) throw new Error(`create fn for ${app}${route.path}: no app ${app}`);
    const name = fnName(route.path);
    const fn = await this.client.expectJson<Fn>(`create fn ${app}/${name}`, 'POST', '/v2/fns', {
      name,
      app_id: appId,
      image: route.image,
      ...(route.memory ? { memory: route.memory } : {}),
      ...(route.timeout ? { timeout: route.timeout } : {}),
      ...(route.idle_timeout ? { idle_timeout: route.idle_timeout } : {}),
      ...(route.config ? { config: route.config } : {}),
    });
    await this.client.expectJson(`create trigger ${app}${route.path}`, 'POST', '/v2/triggers', {
      name,
      app_id: appId,
      fn_id: fn.id,
      type: 'http',
      source: route.path,
    });
  }

  async deleteApp(app: string): Promise<void> {
    const id = await this.appId(app);
    if (id === undefined) return;
    const answer = await this.client.send('DELETE', `/v2/apps/${id}`);
    if (answer.status !== 204 && answer.status !== 200 && answer.status !== 404) {
      throw new Error(`delete app ${app}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
    }
    this.ids.delete(app);
  }

  invokePath(app: string, path: string): string {
    return `/t/${app}${path}`;
  }

  statsKey(app: string, path: string): string {
    return `${app}/${fnName(path)}`;
  }
}

export function fnApi(version: FnApiVersion, client: FnClient): FnApi {
  return version === 'v1' ? new V1Api(client) : new V2Api(client);
}

/** Which APIs answer at `client`'s address: a list of apps answered 200 (anything else: not offered). */
export async function offeredApis(client: FnClient): Promise<Record<FnApiVersion, string | undefined>> {
  const ask = async (path: string): Promise<string | undefined> => {
    try {
      const answer = await client.send('GET', path);
      return answer.status === 200 ? undefined : `GET ${path} answered ${answer.status}`;
    } catch (error) {
      return `GET ${path} failed: ${(error as Error).message}`;
    }
  };
  const [v1, v2] = await Promise.all([ask('/v1/apps'), ask('/v2/apps?per_page=1')]);
  return { v1, v2 };
}

/**
 * The API the run speaks: the one set, when the deployment offers it; on auto, v1 where it is
 * offered (the historic API, and every property's first home), else v2. `undefined` entries of
 * `missing` are offered APIs.
 */
export function chooseApi(
  choice: FnApiChoice,
  missing: Record<FnApiVersion, string | undefined>,
  where: string,
): { version: FnApiVersion; reason: string } {
  if (choice !== 'auto') {
    const why = missing[choice];
    if (why !== undefined)
      throw new Error(`--api ${choice}: ${where} does not offer the ${choice} API (${why})`);
    return { version: choice, reason: 'as set' };
  }
  if (missing.v1 === undefined) {
    return {
      version: 'v1',
      reason: `auto: ${where} offers v1${missing.v2 === undefined ? ' and v2 (--api v2 for v2)' : ''}`,
    };
  }
  if (missing.v2 === undefined)
    return { version: 'v2', reason: `auto: ${where} offers v2 only (${missing.v1})` };
  throw new Error(`${where} offers neither Fn API: ${missing.v1}; ${missing.v2}`);
}
