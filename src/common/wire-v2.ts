// The Fn v2 wire shapes (Fn 0.3.6xx-0.3.7xx: apps, fns and triggers by id, errors as `{"message"}`)
// and the headers of the http-stream contract between a runner and a function. Server, balancer,
// guard and tests import these; no other file spells them out.
import type { Config } from './wire.js';

/** Free-form metadata on apps, fns and triggers: keys to JSON values. */
export type Annotations = Record<string, unknown>;

export interface AppV2 {
  id: string;
  name: string;
  config: Config;
  annotations?: Annotations;
  syslog_url?: string;
  created_at: string;
  updated_at: string;
}

export interface Fn {
  id: string;
  name: string;
  app_id: string;
  image: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  config: Config;
  annotations?: Annotations;
  created_at: string;
  updated_at: string;
}

export type TriggerType = 'http';

export interface Trigger {
  id: string;
  name: string;
  app_id: string;
  fn_id: string;
  type: TriggerType;
  /** The path below `/t/<app name>` that invokes the fn, starting with "/". */
  source: string;
  annotations?: Annotations;
  created_at: string;
  updated_at: string;
}

/** A list answer: `next_cursor` is there when the page was full (Fn: ask again with `cursor=`). */
export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

/** Fn v2's error body. */
export interface ErrorBodyV2 {
  message: string;
}

/** Fn v2's limits and defaults for fns (models/fn.go). */
export const FN_DEFAULTS = { memory: 128, timeout: 30, idle_timeout: 30 } as const;
export const FN_LIMITS = { maxMemory: 8192, maxTimeout: 300, maxIdleTimeout: 3600, maxName: 255 } as const;
/** Fn's page sizes: 30 unless `per_page` says otherwise, never more than 100. */
export const PAGE_SIZE = { default: 30, max: 100 } as const;

/**
 * The http-stream contract: what a runner sends with `POST /call` on the function's socket, and what
 * the function answers inside its 200 for an HTTP trigger.
 */
export const HTTP_STREAM_HEADERS = {
  callId: 'fn-call-id',
  deadline: 'fn-deadline',
  /** `httprequest` for a call through an HTTP trigger; absent for `/invoke`. */
  intent: 'fn-intent',
  method: 'fn-http-method',
  requestUrl: 'fn-http-request-url',
  /** The user's status of a trigger call's answer. */
  status: 'fn-http-status',
  /** Prefix of a caller's header going in, and of a user header coming out. */
  headerPrefix: 'fn-http-h-',
} as const;

/** A header name as Fn's Go side writes it (`fn-http-status` -> `Fn-Http-Status`). */
export function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_whole, dash: string, letter: string) => dash + letter.toUpperCase());
}
