// Validation and merging of Fn v1 app and route bodies: defaults, limits and messages that name
// the offending field. Names and paths end up in URLs, SQL keys and container labels, so they are
// restricted to a safe alphabet rather than escaped everywhere.
import {
  type App,
  type AppBody,
  type Config,
  type Headers,
  ROUTE_DEFAULTS,
  ROUTE_FORMATS,
  ROUTE_LIMITS,
  type Route,
  type RouteFormat,
  type RouteType,
} from '../../common/wire.js';
import { parseCpus } from '../cpus.js';
import { isLoaderVariable } from '../drivers/loader-variables.js';
import { isImageReference } from '../image-reference.js';
import { badRequest } from './errors.js';

const APP_NAME_MAX = 30;
const ROUTE_PATH_MAX = 256;
const IMAGE_MAX = 256;
const APP_NAME = /^[A-Za-z0-9_-]+$/;
// RFC 3986 path characters, minus the ones that change what a path means to routers and shells.
// No '%': a call is routed by its decoded path (src/common/request-target.ts), so a route stored with
// an escape could never be reached; write the character itself.
const PATH_CHARS = /^[A-Za-z0-9._~!$&'()*+,;=:@/-]+$/;
const CONTROL_OR_SPACE = /[\s\p{Cc}]/u;
/** What Node's HTTP server refuses in a header value (a tab is allowed). */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `app` or `route` member of a request body, or a 400 naming what is missing. */
export function unwrap<K extends 'app' | 'route'>(
  body: unknown,
  key: K,
  missing: string,
): Record<string, unknown> {
  if (!isObject(body)) throw badRequest('Invalid JSON: expected an object body');
  const inner = body[key];
  if (inner === undefined) throw badRequest(missing);
  if (!isObject(inner)) throw badRequest(`Invalid ${key}: "${key}" must be an object`);
  return inner;
}

function describeBadText(field: string, value: string, max: number): string | undefined {
  if (value === '') return `${field} must not be empty`;
  if (value.length > max) return `${field} must be ${max} characters or less`;
  if (CONTROL_OR_SPACE.test(value)) return `${field} must not contain spaces or control characters`;
  if (value.includes('..')) return `${field} must not contain ".."`;
  return undefined;
}

export function validateAppName(name: unknown, field = 'app.name'): string {
  if (name === undefined || name === null || name === '') throw badRequest(`Missing app name (${field})`);
  if (typeof name !== 'string') throw badRequest(`Invalid app name: ${field} must be a string`);
  const problem =
    describeBadText(field, name, APP_NAME_MAX) ??
    (APP_NAME.test(name) ? undefined : `${field} may contain only letters, digits, "_" and "-"`);
  if (problem) throw badRequest(`Invalid app name: ${problem}`);
  return name;
}

/** Route paths are stored cleaned: leading "/", no trailing "/", no empty segments. */
export function validateRoutePath(path: unknown, field = 'route.path'): string {
  if (path === undefined || path === null || path === '') throw badRequest(`Missing route path (${field})`);
  if (typeof path !== 'string') throw badRequest(`Invalid route path: ${field} must be a string`);
  const cleaned = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const problem =
    describeBadText(field, path, ROUTE_PATH_MAX) ??
    (!cleaned.startsWith('/') ? `${field} must start with "/"` : undefined) ??
    (cleaned === '/' ? `${field} must name a route below "/"` : undefined) ??
    (cleaned.includes('//') ? `${field} must not contain empty segments` : undefined) ??
    (cleaned.includes('%')
      ? `${field} must not contain "%": calls are routed by their decoded path, so write the character itself`
      : undefined) ??
    (PATH_CHARS.test(cleaned) ? undefined : `${field} contains characters not allowed in a URL path`);
  if (problem) throw badRequest(`Invalid route path: ${problem}`);
  return cleaned;
}

function validateImage(image: unknown): string {
  if (image === undefined || image === null || image === '')
    throw badRequest('Missing route image (route.image)');
  if (typeof image !== 'string') throw badRequest('Invalid route image: route.image must be a string');
  const problem =
    describeBadText('route.image', image, IMAGE_MAX) ??
    (isImageReference(image)
      ? undefined
      : 'route.image must be an image reference such as "localhost/fnlb-guard/primes" or "registry:5000/team/fn:1.0"');
  if (problem) throw badRequest(`Invalid route image: ${problem}`);
  return image;
}

function validateBoundedInt(field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw badRequest(
      `Invalid route ${field.split('.')[1]}: ${field} must be a whole number from 1 to ${max}`,
    );
  }
  return value;
}

function validateFormat(value: unknown): RouteFormat {
  if (typeof value !== 'string' || !ROUTE_FORMATS.includes(value as RouteFormat)) {
    throw badRequest(`Invalid route format: route.format must be one of ${ROUTE_FORMATS.join(', ')}`);
  }
  return value as RouteFormat;
}

function validateType(value: unknown): RouteType {
  if (value === 'sync') return value;
  if (value === 'async') {
    throw badRequest(
      'Invalid route type: route.type "async" needs a message queue this node does not have; use "sync"',
    );
  }
  throw badRequest('Invalid route type: route.type must be "sync"');
}

/** Fn's `cpus`: "" (the node's default), millicpus ("500m") or CPUs ("0.5"). */
function validateCpus(value: unknown): string {
  if (typeof value !== 'string')
    throw badRequest('Invalid route cpus: route.cpus must be a string such as "500m"');
  const parsed = parseCpus(value);
  if (typeof parsed === 'object') throw badRequest(`Invalid route cpus: route.cpus ${parsed.problem}`);
  return value;
}

export function validateConfig(field: string, value: unknown): Config {
  if (!isObject(value)) throw badRequest(`Invalid config: ${field} must be an object of strings`);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw badRequest(`Invalid config: ${field}.${key} must be a string`);
    if (key === '' || CONTROL_OR_SPACE.test(key) || key.includes('=')) {
      throw badRequest(
        `Invalid config: ${field} key ${JSON.stringify(key)} must be a non-empty name without spaces or "="`,
      );
    }
    // An empty value removes a key (mergeConfig), so a loader variable may always be taken out.
    if (isLoaderVariable(key) && item !== '') {
      throw badRequest(
        `Invalid config: ${field} key ${JSON.stringify(key)} changes how the function's runtime loads code and is not allowed`,
      );
    }
  }
  return value as Config;
}

function validateHeaders(value: unknown): Headers {
  if (!isObject(value)) throw badRequest('Invalid headers: route.headers must be an object of string arrays');
  for (const [key, item] of Object.entries(value)) {
    if (!Array.isArray(item) || !item.every((entry) => typeof entry === 'string')) {
      throw badRequest(`Invalid headers: route.headers.${key} must be an array of strings`);
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw badRequest(
        `Invalid headers: route.headers key ${JSON.stringify(key)} is not an HTTP header name`,
      );
    }
    if ((item as string[]).some((entry) => INVALID_HEADER_VALUE.test(entry))) {
      throw badRequest(`Invalid headers: route.headers.${key} has a value with a control character`);
    }
  }
  return value as Headers;
}

/** Merges a config patch: an empty-string value removes the key, as Fn does. */
export function mergeConfig(base: Config, patch: Config): Config {
  const merged: Config = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function mergeHeaders(base: Headers, patch: Headers): Headers {
  const merged: Headers = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value.length === 0) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** A new app from a POST /v1/apps body. */
export function appFromBody(body: unknown): App {
  const app = unwrap(body, 'app', 'Missing new application (app)') as AppBody['app'];
  const name = validateAppName(app.name);
  const config =
    app.config === undefined || app.config === null ? {} : validateConfig('app.config', app.config);
  return { name, config: mergeConfig({}, config) };
}

/** The config patch of a PATCH /v1/apps/:app body; a name, if given, must match the URL. */
export function appPatchFromBody(body: unknown, urlName: string): Config {
  const app = unwrap(body, 'app', 'Missing app update (app)') as AppBody['app'];
  if (app.name !== undefined && app.name !== urlName) {
    throw badRequest('Could not update app: app.name is immutable');
  }
  return app.config === undefined || app.config === null ? {} : validateConfig('app.config', app.config);
}

/**
 * Applies a route body to a base: a full new route from defaults (create) or the stored route
 * (update). Fields that are absent, null or zero keep the base value, as Fn's Route.Update does.
 */
export function applyRouteBody(base: Route, input: Record<string, unknown>): Route {
  const set = (value: unknown) => value !== undefined && value !== null && value !== 0 && value !== '';
  const route: Route = { ...base };
  if (set(input.image)) route.image = validateImage(input.image);
  if (set(input.format)) route.format = validateFormat(input.format);
  if (set(input.type)) route.type = validateType(input.type);
  if (set(input.memory))
    route.memory = validateBoundedInt('route.memory', input.memory, ROUTE_LIMITS.maxMemory);
  if (set(input.timeout))
    route.timeout = validateBoundedInt('route.timeout', input.timeout, ROUTE_LIMITS.maxTimeout);
  if (set(input.idle_timeout)) {
    route.idle_timeout = validateBoundedInt(
      'route.idle_timeout',
      input.idle_timeout,
      ROUTE_LIMITS.maxIdleTimeout,
    );
  }
  if (input.cpus !== undefined && input.cpus !== null) route.cpus = validateCpus(input.cpus);
  if (input.config !== undefined && input.config !== null) {
    route.config = mergeConfig(base.config, validateConfig('route.config', input.config));
  }
  if (input.headers !== undefined && input.headers !== null) {
    route.headers = mergeHeaders(base.headers, validateHeaders(input.headers));
  }
  if (route.image === '') throw badRequest('Missing route image (route.image)');
  return route;
}

/** The route a create or first upsert starts from. */
export function defaultRoute(appName: string, path: string): Route {
  return {
    app_name: appName,
    path,
    image: '',
    format: ROUTE_DEFAULTS.format,
    type: ROUTE_DEFAULTS.type,
    memory: ROUTE_DEFAULTS.memory,
    timeout: ROUTE_DEFAULTS.timeout,
    idle_timeout: ROUTE_DEFAULTS.idle_timeout,
    cpus: ROUTE_DEFAULTS.cpus,
    config: {},
    headers: {},
  };
}

/** Checks a body's route.path against the URL's: Fn paths are immutable. */
export function checkPathMatches(input: Record<string, unknown>, urlPath: string): void {
  if (input.path === undefined || input.path === null || input.path === '') return;
  if (validateRoutePath(input.path) !== urlPath) {
    throw badRequest('Could not update route: route.path is immutable and must match the URL');
  }
}
