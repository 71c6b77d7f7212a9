// How fnlb keys Fn v2 calls: by their fn. A fn is called through an HTTP trigger, `ANY /t/<app><source>`,
// or directly, `POST /invoke/<fn id>`; both run the same fn, whose hot containers are on one node, so
// both must hash alike. A direct call is keyed by its own path, `/invoke/<fn id>`; a trigger call is
// resolved to its fn through the Fn API and keyed `/invoke/<fn id>` too, so stickiness, bounded load,
// failover and the per-key stats all see one fn. The lookup is what Fn's LB node does through its
// FN_RUNNER_API_URL, asked of the nodes themselves (fn-node and Fn's API nodes both serve it) or of
// -api-url:
//   GET /v2/apps?name=<app>                                      -> {"items":[{"id"...}]}
//   GET /v2/runner/apps/<app id>/triggerBySource/http/<source>   -> {"fn_id"...}, 404 when none
//
// Resolution only ever moves a call between nodes, never changes what it does: the node reads the
// trigger itself. So every failure (no v2 API, a timeout, an unknown app or trigger, a node error, a
// bad answer) keys the call by its own path, as before, and the call is forwarded all the same. A
// call waits for a lookup at most the deadline (and the lookup runs while its body arrives); calls
// of one trigger share one lookup; answers are cached per process, bounded in bytes, and a cluster
// without the v2 API is asked again only every NO_API_TTL_MS, not on every call.
import type { Logger } from 'pino';
import { type Dispatcher, Pool } from 'undici';
import { canonicalPath } from '../common/request-target.js';
import type { Backend } from './backend.js';
import type { Balancer } from './balancer.js';

/** A call waits at most this for its trigger's fn (both queries together), then goes by its path. */
export const RESOLVE_DEADLINE_MS = 2000;
/**
 * How long a trigger's fn (and an app's id) is trusted. A trigger rarely changes its fn, and an
 * outdated answer only costs placement, never correctness (the node resolves the trigger itself): for
 * at most this long after a change, its calls keep the old fn's node, one cold start there at worst.
 * And it keeps the lookups of a busy trigger to one per 10 s per worker. An expired answer is still
 * used while it is asked again, so a busy trigger never waits for its refresh.
 */
export const POSITIVE_TTL_MS = 10_000;
/**
 * How long "no such app or trigger" and a failed lookup stand: short, so a trigger created a moment
 * ago becomes sticky within a second, and an unknown path (or an API in trouble) costs at most one
 * lookup per second per worker, never one per call.
 */
export const NEGATIVE_TTL_MS = 1000;
/**
 * A cluster that answers 404 for /v2/apps has no v2 API (Fn v1): /t calls go by their path without
 * asking for this long, so a v1 cluster is not asked on every call; a cluster upgraded in place is
 * resolved again within it.
 */
export const NO_API_TTL_MS = 30_000;
/** The cache's bound: paths are client-chosen, so bytes, not entries; the least recently used go first. */
export const MAX_CACHE_BYTES = 2 * 1024 * 1024;
/** Lookups in flight at once (distinct triggers); past that, a trigger call goes by its path. */
export const MAX_RESOLVING = 64;
/** What one cache entry costs besides its strings. */
const ENTRY_OVERHEAD_BYTES = 100;
/** An answer larger than this is not an app list of one or a trigger: a failure. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** A trigger path longer than this is keyed by itself (no trigger has such a source). */
const MAX_TRIGGER_PATH = 2048;
/** A node that cannot be reached: the next one of the walk is asked, within the deadline. */
const MAX_NODES_ASKED = 3;

/** What one lookup found: a fn, no app or trigger, no v2 API at all, or a failure to tell. */
export type ResolveResult = 'fn' | 'none' | 'no_api' | 'failed';

export interface FnKeysOptions {
  /** Off: every call is keyed by its own path (-v2-resolve=false). */
  enabled: boolean;
  /** The Fn API to ask (-api-url), `http(s)://host:port[/base]`; undefined: ask the nodes. */
  apiUrl?: string | undefined;
  deadlineMs?: number;
  positiveTtlMs?: number;
  negativeTtlMs?: number;
  noApiTtlMs?: number;
  maxCacheBytes?: number;
  maxResolving?: number;
  /** Called once per lookup (not per call) with what it found. */
  onResolved?: (result: ResolveResult) => void;
}

interface Entry {
  /** The key (or app id) found; null: none, key the call by its path. */
  value: string | null;
  expires: number;
  bytes: number;
}

type Lookup = { result: 'fn'; key: string } | { result: Exclude<ResolveResult, 'fn'>; why: string };

class NoApi extends Error {}
class Failure extends Error {}

/** An HTTP answer of the API: its status and, for a 200, its JSON body. */
interface Answer {
  status: number;
  body?: unknown;
}

/** The app segment and the source of a canonical `/t/<app>[/<source>]` path, or undefined. */
export function triggerOf(path: string): { app: string; source: string } | undefined {
  if (!path.startsWith('/t/') || path.length > MAX_TRIGGER_PATH) return undefined;
  const slash = path.indexOf('/', 3);
  const app = slash < 0 ? path.slice(3) : path.slice(3, slash);
  if (app === '') return undefined;
  return { app, source: slash < 0 ? '/' : path.slice(slash) };
}

/** The key of a direct call of fn `id`, as the canonical path of `POST /invoke/<id>` reads. */
export function invokeKey(id: unknown): string | undefined {
  if (typeof id !== 'string' || id === '' || id.length > 256) return undefined;
  return canonicalPath(`/invoke/${encodeURIComponent(id)}`);
}

export class FnKeys {
  readonly #balancer: Balancer;
  readonly #log: Logger;
  readonly #enabled: boolean;
  readonly #apiUrl: URL | undefined;
  readonly #deadlineMs: number;
  readonly #positiveTtlMs: number;
  readonly #negativeTtlMs: number;
  readonly #noApiTtlMs: number;
  readonly #maxCacheBytes: number;
  readonly #maxResolving: number;
  readonly #onResolved: ((result: ResolveResult) => void) | undefined;
  /** Trigger paths to fn keys, and `app <segment>` to app ids; least recently used first. */
  readonly #cache = new Map<string, Entry>();
  #cacheBytes = 0;
  /** Lookups in flight, by trigger path; and app id lookups, by app segment. */
  readonly #resolving = new Map<string, Promise<string | null>>();
  readonly #appLookups = new Map<string, Promise<string | null>>();
  readonly #aborts = new Set<AbortController>();
  /** Until then trigger calls go by their path without asking: no v2 API, or the API failing. */
  #skipUntil = 0;
  #lastResult: ResolveResult | undefined;
  #apiPool: Pool | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(balancer: Balancer, options: FnKeysOptions, log: Logger) {
    this.#balancer = balancer;
    this.#log = log;
    this.#enabled = options.enabled;
    this.#apiUrl = options.apiUrl === undefined ? undefined : new URL(options.apiUrl);
    this.#deadlineMs = options.deadlineMs ?? RESOLVE_DEADLINE_MS;
    this.#positiveTtlMs = options.positiveTtlMs ?? POSITIVE_TTL_MS;
    this.#negativeTtlMs = options.negativeTtlMs ?? NEGATIVE_TTL_MS;
    this.#noApiTtlMs = options.noApiTtlMs ?? NO_API_TTL_MS;
    this.#maxCacheBytes = options.maxCacheBytes ?? MAX_CACHE_BYTES;
    this.#maxResolving = options.maxResolving ?? MAX_RESOLVING;
    this.#onResolved = options.onResolved;
  }

  /** Entries cached and the bytes they account for (bounded by maxCacheBytes). */
  get cacheSize(): { entries: number; bytes: number } {
    return { entries: this.#cache.size, bytes: this.#cacheBytes };
  }

  /**
   * The balancing key of a call with canonical path `path`: the path itself, or `/invoke/<fn id>` for
   * a trigger call whose fn is known. Synchronous unless a lookup is needed; never rejects, and never
   * takes longer than the deadline.
   */
  keyFor(path: string): string | Promise<string> {
    if (!this.#enabled || this.#closed) return path;
    const trigger = triggerOf(path);
    if (trigger === undefined) return path;
    const now = Date.now();
    const entry = this.#get(path);
    if (entry !== undefined) {
      if (entry.expires > now) return entry.value ?? path;
      // Expired: a known fn is used while it is asked again; an expired "none" is asked again first.
      if (entry.value !== null) {
        if (now >= this.#skipUntil) void this.#resolve(path, trigger.app, trigger.source);
        return entry.value;
      }
    }
    if (now < this.#skipUntil) return path;
    const pending = this.#resolve(path, trigger.app, trigger.source);
    return pending === undefined ? path : pending.then((key) => key ?? path);
  }

  /** Stops lookups in flight (their calls go by their path) and closes the -api-url pool. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      for (const controller of this.#aborts) controller.abort(new Error('fnlb is closing'));
      const pool = this.#apiPool;
      if (pool !== undefined) await pool.close().catch(() => pool.destroy().catch(() => {}));
    })();
    return this.#closing;
  }

  /** The shared lookup of one trigger path; undefined when too many are in flight already. */
  #resolve(path: string, app: string, source: string): Promise<string | null> | undefined {
    const running = this.#resolving.get(path);
    if (running !== undefined) return running;
    if (this.#resolving.size >= this.#maxResolving) return undefined;
    const pending = this.#lookup(path, app, source)
      .then((lookup) => this.#learn(path, lookup))
      .catch((error: unknown) => {
        this.#log.error({ err: error, path }, 'v2 trigger lookup broke');
        return null;
      });
    this.#resolving.set(path, pending);
    void pending.finally(() => this.#resolving.delete(path));
    return pending;
  }

  /** Records what a lookup found; the key the calls waiting for it take (null: their path). */
  #learn(path: string, lookup: Lookup): string | null {
    const now = Date.now();
    this.#onResolved?.(lookup.result);
    this.#report(lookup);
    switch (lookup.result) {
      case 'fn':
        this.#put(path, lookup.key, now + this.#positiveTtlMs);
        return lookup.key;
      case 'none':
        this.#put(path, null, now + this.#negativeTtlMs);
        return null;
      case 'no_api':
        this.#skipUntil = now + this.#noApiTtlMs;
        this.#drop(path);
        return null;
      case 'failed': {
        this.#skipUntil = now + this.#negativeTtlMs;
        // A fn known before stays in use (placement only) and is asked again after the negative TTL.
        const stale = this.#cache.get(path)?.value ?? null;
        this.#put(path, stale, now + this.#negativeTtlMs);
        return stale;
      }
    }
  }

  /** Logs a change of what lookups find (not every lookup: a v1 cluster would log every 30 s). */
  #report(lookup: Lookup): void {
    const previous = this.#lastResult;
    this.#lastResult = lookup.result;
    if (lookup.result === previous) return;
    if (lookup.result === 'no_api')
      this.#log.info({ why: lookup.why }, 'no Fn v2 API to resolve triggers with: /t calls keyed by path');
    else if (lookup.result === 'failed')
      this.#log.warn({ why: lookup.why }, 'v2 trigger lookup failed: /t calls keyed by path for now');
    else if (previous === 'failed' || previous === 'no_api')
      this.#log.info('v2 trigger lookups answer again: /t calls keyed by their fn');
  }

  async #lookup(path: string, app: string, source: string): Promise<Lookup> {
    const controller = new AbortController();
    this.#aborts.add(controller);
    const timer = setTimeout(
      () => controller.abort(new Failure(`no answer within ${this.#deadlineMs} ms`)),
      this.#deadlineMs,
    );
    try {
      const appId = await this.#appId(path, app, controller.signal);
      if (appId === null) return { result: 'none', why: 'no such app' };
      const answer = await this.#ask(
        path,
        `/v2/runner/apps/${encodeURIComponent(appId)}/triggerBySource/http/${source.slice(1)}`,
        controller.signal,
      );
      if (answer.status === 404) {
        // The app may have been deleted and made again under another id: ask for it again next time.
        this.#drop(`app ${app}`);
        return { result: 'none', why: 'no such trigger' };
      }
      if (answer.status !== 200) throw new Failure(`trigger lookup answered ${answer.status}`);
      const key = invokeKey((answer.body as { fn_id?: unknown } | null)?.fn_id);
      if (key === undefined) throw new Failure('trigger lookup answered no usable fn_id');
      return { result: 'fn', key };
    } catch (error) {
      if (error instanceof NoApi) return { result: 'no_api', why: error.message };
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      return { result: 'failed', why: (reason as Error)?.message ?? String(reason) };
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(controller);
    }
  }

  /** The id of the app named by path segment `app` (cached, one lookup per app at a time); null: none. */
  #appId(path: string, app: string, signal: AbortSignal): Promise<string | null> {
    const cacheKey = `app ${app}`;
    const entry = this.#get(cacheKey);
    if (entry !== undefined && entry.expires > Date.now()) return Promise.resolve(entry.value);
    const running = this.#appLookups.get(app);
    if (running !== undefined) return running;
    const pending = (async () => {
      let name: string;
      try {
        name = decodeURIComponent(app);
      } catch {
        return null;
      }
      const answer = await this.#ask(path, `/v2/apps?name=${encodeURIComponent(name)}`, signal);
      if (answer.status === 404) throw new NoApi(`GET /v2/apps answered 404`);
      if (answer.status !== 200) throw new Failure(`app lookup answered ${answer.status}`);
      const items = (answer.body as { items?: unknown } | null)?.items;
      if (!Array.isArray(items)) throw new Failure('app lookup answered no "items" list');
      const found = items.find(
        (item: { name?: unknown; id?: unknown } | null) => item?.name === name && typeof item.id === 'string',
      ) as { id: string } | undefined;
      const id = found?.id ?? null;
      this.#put(cacheKey, id, Date.now() + (id === null ? this.#negativeTtlMs : this.#positiveTtlMs));
      return id;
    })();
    this.#appLookups.set(app, pending);
    void pending.then(
      () => this.#appLookups.delete(app),
      () => this.#appLookups.delete(app),
    );
    return pending;
  }

  /**
   * GET `target` of the API: of -api-url, or of the first online node of the trigger path's walk on
   * its keep-alive pool (the next one when a node cannot be reached, within the deadline).
   */
  async #ask(near: string, target: string, signal: AbortSignal): Promise<Answer> {
    if (this.#apiUrl !== undefined) {
      const base = this.#apiUrl.pathname.replace(/\/+$/, '');
      return answerOf(await this.#pool().request(requestOptions(`${base}${target}`, signal)));
    }
    const nodes: Backend[] = this.#balancer.walk(near).slice(0, MAX_NODES_ASKED);
    if (nodes.length === 0) throw new Failure('no node is online');
    let last: unknown;
    for (const node of nodes) {
      try {
        return answerOf(await node.pool.request(requestOptions(target, signal)));
      } catch (error) {
        if (signal.aborted || !unreachable(error)) throw error;
        last = error;
      }
    }
    throw last;
  }

  #pool(): Pool {
    this.#apiPool ??= new Pool((this.#apiUrl as URL).origin, {
      connect: { timeout: this.#deadlineMs },
      keepAliveTimeout: 4000,
    });
    return this.#apiPool;
  }

  #get(key: string): Entry | undefined {
    const entry = this.#cache.get(key);
    if (entry === undefined) return undefined;
    this.#cache.delete(key);
    this.#cache.set(key, entry);
    return entry;
  }

  #put(key: string, value: string | null, expires: number): void {
    this.#drop(key);
    const bytes = key.length * 2 + (value?.length ?? 0) * 2 + ENTRY_OVERHEAD_BYTES;
    this.#cache.set(key, { value, expires, bytes });
    this.#cacheBytes += bytes;
    for (const [oldest, entry] of this.#cache) {
      if (this.#cacheBytes <= this.#maxCacheBytes) break;
      this.#cache.delete(oldest);
      this.#cacheBytes -= entry.bytes;
    }
  }

  #drop(key: string): void {
    const entry = this.#cache.get(key);
    if (entry === undefined) return;
    this.#cache.delete(key);
    this.#cacheBytes -= entry.bytes;
  }
}

function requestOptions(path: string, signal: AbortSignal): Dispatcher.RequestOptions {
  return { method: 'GET', path, headers: { accept: 'application/json' }, signal };
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function unreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}

/** The status, and for a 200 its JSON body, read up to MAX_ANSWER_BYTES. */
async function answerOf(response: Dispatcher.ResponseData): Promise<Answer> {
  if (response.statusCode !== 200) {
    await response.body.dump().catch(() => {});
    return { status: response.statusCode };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      response.body.destroy();
      throw new Failure(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return { status: 200, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    throw new Failure('answer is not JSON');
  }
}
