// Validation of Fn v2 bodies (apps, fns, triggers) and the merge of an update into a stored record,
// with Fn's own messages (models/*.go), since v2 clients match on them. Create bodies must not carry
// ids or timestamps; update bodies may repeat the id of the URL but not another one.
import type { Config } from '../../../common/wire.js';
import {
  type Annotations,
  type AppV2,
  FN_DEFAULTS,
  FN_LIMITS,
  type Fn,
  type Trigger,
} from '../../../common/wire-v2.js';
import { AnswerError } from '../../answer-error.js';
import { isLoaderVariable } from '../../drivers/loader-variables.js';
import { isImageReference } from '../../image-reference.js';
import { isObject, mergeConfig } from '../validate.js';

const refuse = (message: string) => new AnswerError(400, message);

const ANNOTATION_KEY_BYTES = 128;
const ANNOTATION_VALUE_BYTES = 512;
const ANNOTATION_KEYS = 100;
/** Printable ASCII without whitespace. */
const ANNOTATION_KEY = /^[\x21-\x7e]+$/;
/** Letters, digits, "_" and "-" (Fn allows any Unicode letter or digit; so does this). */
const APP_OR_TRIGGER_NAME = /^[\p{L}\p{N}_-]+$/u;
const SYSLOG_SCHEMES = new Set(['udp:', 'tcp:', 'unix:', 'unixgram:', 'tcp+tls:']);

export type Body = Record<string, unknown>;

/** The request body as an object, or Fn's 'Invalid JSON'. */
export function objectBody(body: unknown): Body {
  if (!isObject(body)) throw refuse('Invalid JSON');
  return body;
}

function text(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw refuse('Invalid JSON');
  return value;
}

function whole(body: Body, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw refuse('Invalid JSON');
  return value;
}

/** A config of strings, as Fn takes it; a variable that changes how a runtime loads code is refused. */
function configOf(body: Body): Config | undefined {
  const value = body.config;
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || !Object.values(value).every((item) => typeof item === 'string')) {
    throw refuse('Invalid JSON');
  }
  for (const [key, item] of Object.entries(value)) {
    // An empty value removes a key (mergeConfig), so a loader variable may always be taken out.
    if (isLoaderVariable(key) && item !== '') {
      throw refuse(`Invalid config: ${JSON.stringify(key)} changes how the function's runtime loads code`);
    }
  }
  return value as Config;
}

/** Fn's annotation rules: printable keys up to 128 bytes, non-empty values up to 512 bytes of JSON, 100 keys. */
function annotationsOf(body: Body): Annotations | undefined {
  const value = body.annotations;
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw refuse('Invalid JSON');
  for (const [key, item] of Object.entries(value)) {
    if (!ANNOTATION_KEY.test(key)) {
      throw refuse(
        'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace',
      );
    }
    if (Buffer.byteLength(key) > ANNOTATION_KEY_BYTES) {
      throw refuse(
        `Invalid annotation key length, annotation keys may not be larger than ${ANNOTATION_KEY_BYTES} bytes`,
      );
    }
    // "" (or null) in a body removes the key (mergeAnnotations): it is never stored.
    if (item === '' || item === null) continue;
    if (typeof item === 'boolean') {
      throw refuse(
        'Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays',
      );
    }
    if (serializedBytes(item) > ANNOTATION_VALUE_BYTES) {
      throw refuse(
        `Invalid annotation value length, annotation values may not be larger than ${ANNOTATION_VALUE_BYTES} bytes when serialized as JSON`,
      );
    }
  }
  return value;
}

/** The JSON size of a value; one nested too deep to serialize is over any bound. */
function serializedBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Fn's annotation merge: a key set to "" (or null) in the change is removed. */
function mergeAnnotations(base: Annotations | undefined, change: Annotations | undefined): Annotations {
  const merged: Annotations = { ...(base ?? {}) };
  for (const [key, value] of Object.entries(change ?? {})) {
    if (value === '' || value === null) delete merged[key];
    else merged[key] = value;
  }
  if (Object.keys(merged).length > ANNOTATION_KEYS) {
    throw refuse(
      `Invalid annotation change, new key(s) exceed maximum permitted number of annotations keys (${ANNOTATION_KEYS})`,
    );
  }
  return merged;
}

function withAnnotations<T extends { annotations?: Annotations }>(record: T, annotations: Annotations): T {
  const { annotations: _old, ...rest } = record;
  return (Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest) as T;
}

function refuseIdsOnCreate(body: Body, idMessage: string): void {
  if (body.id !== undefined && body.id !== null && body.id !== '') throw refuse(idMessage);
}

/** An update body's id, when it gives one, must be the URL's. */
function checkSameId(body: Body, urlId: string, mismatch: string): void {
  const id = text(body, 'id');
  if (id !== undefined && id !== '' && id !== urlId) throw refuse(mismatch);
}

function validateAppName(name: string | undefined): string {
  if (name === undefined || name === '') throw refuse('Missing Name');
  if (name.length > FN_LIMITS.maxName)
    throw refuse(`App name must be ${FN_LIMITS.maxName} characters or less`);
  if (!APP_OR_TRIGGER_NAME.test(name)) throw refuse('Invalid app name');
  return name;
}

function validateSyslog(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  let scheme: string | undefined;
  try {
    scheme = new URL(url.trim()).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme === undefined || !SYSLOG_SCHEMES.has(scheme)) {
    throw refuse(
      `invalid syslog url: "${url}" invalid scheme, only [tcp, udp, unix, unixgram, tcp+tls] are supported`,
    );
  }
  return url;
}

/** A new app from a POST /v2/apps body. */
export function newApp(body: Body, id: string, now: string): AppV2 {
  refuseIdsOnCreate(body, 'App ID cannot be supplied on create');
  const name = validateAppName(text(body, 'name'));
  const syslog = validateSyslog(text(body, 'syslog_url'));
  const app: AppV2 = {
    id,
    name,
    config: mergeConfig({}, configOf(body) ?? {}),
    created_at: now,
    updated_at: now,
    ...(syslog === undefined ? {} : { syslog_url: syslog }),
  };
  return withAnnotations(app, mergeAnnotations(undefined, annotationsOf(body)));
}

/** The stored app with a PUT /v2/apps/:id body applied; the name cannot change. */
export function updatedApp(current: AppV2, body: Body, now: string): AppV2 {
  checkSameId(body, current.id, 'App ID in path does not match ID in body');
  const name = text(body, 'name');
  if (name !== undefined && name !== '' && name !== current.name) {
    throw new AnswerError(409, 'Could not update - name is immutable');
  }
  const config = configOf(body);
  const syslogText = text(body, 'syslog_url');
  const syslog = validateSyslog(syslogText);
  // Fn's update: a syslog_url of "" takes it away.
  const { syslog_url: _old, ...rest } = current;
  const base = syslogText === '' ? rest : current;
  const app: AppV2 = {
    ...base,
    config: config === undefined ? current.config : mergeConfig(current.config, config),
    ...(syslog === undefined ? {} : { syslog_url: syslog }),
    updated_at: now,
  };
  return withAnnotations(app, mergeAnnotations(current.annotations, annotationsOf(body)));
}

function validateFnName(name: string | undefined): string {
  if (name === undefined || name === '') throw refuse('Missing Fn name');
  if (name.length > FN_LIMITS.maxName)
    throw refuse(`Fn name must be ${FN_LIMITS.maxName} characters or less`);
  let escaped: string;
  try {
    escaped = encodeURIComponent(name);
  } catch {
    // A lone UTF-16 surrogate has no UTF-8 form.
    escaped = '';
  }
  if (escaped !== name) throw refuse('name must be a valid string');
  return name;
}

function validateImage(image: string): string {
  if (!isImageReference(image)) throw refuse('Invalid Fn image');
  return image;
}

/** The resource fields of a fn body, each when it is set (Fn: zero means "not set"). */
function fnResources(body: Body): Partial<Pick<Fn, 'memory' | 'timeout' | 'idle_timeout'>> {
  const memory = whole(body, 'memory');
  const timeout = whole(body, 'timeout');
  const idle = whole(body, 'idle_timeout');
  if (memory !== undefined && (memory < 1 || memory > FN_LIMITS.maxMemory)) {
    throw refuse(`memory value is out of range. It should be between 0 and ${FN_LIMITS.maxMemory}`);
  }
  if (timeout !== undefined && (timeout < 0 || timeout > FN_LIMITS.maxTimeout)) {
    throw refuse(`timeout value is out of range, must be between 0 and ${FN_LIMITS.maxTimeout}`);
  }
  if (idle !== undefined && (idle < 0 || idle > FN_LIMITS.maxIdleTimeout)) {
    throw refuse(`idle_timeout value is out of range, must be between 0 and ${FN_LIMITS.maxIdleTimeout}`);
  }
  return {
    ...(memory === undefined ? {} : { memory }),
    ...(timeout === undefined ? {} : { timeout }),
    ...(idle === undefined ? {} : { idle_timeout: idle }),
  };
}

/** A new fn from a POST /v2/fns body, with Fn's defaults. */
export function newFn(body: Body, id: string, now: string): Fn {
  refuseIdsOnCreate(body, 'ID cannot be provided for Fn creation');
  const name = validateFnName(text(body, 'name'));
  const appId = text(body, 'app_id');
  if (appId === undefined || appId === '') throw refuse('Missing AppID on Fn');
  const image = text(body, 'image');
  if (image === undefined || image === '') throw refuse('Missing image on Fn');
  const fn: Fn = {
    id,
    name,
    app_id: appId,
    image: validateImage(image),
    ...FN_DEFAULTS,
    ...fnResources(body),
    config: mergeConfig({}, configOf(body) ?? {}),
    created_at: now,
    updated_at: now,
  };
  return withAnnotations(fn, mergeAnnotations(undefined, annotationsOf(body)));
}

/** The stored fn with a PUT /v2/fns/:id body applied: image, resources, config and annotations. */
export function updatedFn(current: Fn, body: Body, now: string): Fn {
  checkSameId(body, current.id, 'Fn ID in path does not match that in body');
  const image = text(body, 'image');
  const config = configOf(body);
  const fn: Fn = {
    ...current,
    ...(image === undefined || image === '' ? {} : { image: validateImage(image) }),
    ...fnResources(body),
    config: config === undefined ? current.config : mergeConfig(current.config, config),
    updated_at: now,
  };
  return withAnnotations(fn, mergeAnnotations(current.annotations, annotationsOf(body)));
}

function validateTriggerName(name: string | undefined): string {
  if (name === undefined || name === '') throw refuse('Missing name on Trigger');
  if (name.length > FN_LIMITS.maxName) {
    throw refuse(`Trigger name must be ${FN_LIMITS.maxName} characters or less`);
  }
  if (!APP_OR_TRIGGER_NAME.test(name)) throw refuse('Invalid name for Trigger');
  return name;
}

/**
 * A trigger's source: a path below `/t/<app>`. Sources are matched against a call's canonical path,
 * so one stored with a trailing slash, an empty segment or a "%" escape could never be reached.
 */
function validateSource(source: string | undefined): string {
  if (source === undefined || source === '') throw refuse('Missing Trigger Source');
  if (!source.startsWith('/')) throw refuse("Missing Trigger Source Prefix '/'");
  const cleaned = source.length > 1 ? source.replace(/\/+$/, '') || '/' : source;
  const dotSegment = /\/\.\.?(?:\/|$)/.test(cleaned);
  if (cleaned.includes('//') || cleaned.includes('%') || dotSegment || /[\s\p{Cc}?#]/u.test(cleaned)) {
    throw refuse('Path malformed');
  }
  return cleaned;
}

/** A new trigger from a POST /v2/triggers body. */
export function newTrigger(body: Body, id: string, now: string): Trigger {
  refuseIdsOnCreate(body, 'ID cannot be provided for Trigger creation');
  if (body.created_at !== undefined) throw refuse('Trigger Created At Provided for Create');
  const appId = text(body, 'app_id');
  if (appId === undefined || appId === '') throw refuse('Missing App ID on Trigger');
  const name = validateTriggerName(text(body, 'name'));
  const fnId = text(body, 'fn_id');
  if (fnId === undefined || fnId === '') throw refuse('Missing Fn ID on Trigger');
  if (text(body, 'type') !== 'http') throw refuse('Trigger Type Not Supported');
  const trigger: Trigger = {
    id,
    name,
    app_id: appId,
    fn_id: fnId,
    type: 'http',
    source: validateSource(text(body, 'source')),
    created_at: now,
    updated_at: now,
  };
  return withAnnotations(trigger, mergeAnnotations(undefined, annotationsOf(body)));
}

/** The stored trigger with a PUT /v2/triggers/:id body applied (Fn's Trigger.Update). */
export function updatedTrigger(current: Trigger, body: Body, now: string): Trigger {
  checkSameId(body, current.id, 'ID in path does not match ID in body');
  const name = text(body, 'name');
  const fnId = text(body, 'fn_id');
  const source = text(body, 'source');
  const appId = text(body, 'app_id');
  if (appId !== undefined && appId !== '' && appId !== current.app_id) {
    throw refuse('Invalid Fn ID - not owned by specified app');
  }
  const type = text(body, 'type');
  if (type !== undefined && type !== '' && type !== 'http') throw refuse('Trigger Type Not Supported');
  const trigger: Trigger = {
    ...current,
    ...(name === undefined || name === '' ? {} : { name: validateTriggerName(name) }),
    ...(fnId === undefined || fnId === '' ? {} : { fn_id: fnId }),
    ...(source === undefined || source === '' ? {} : { source: validateSource(source) }),
    updated_at: now,
  };
  return withAnnotations(trigger, mergeAnnotations(current.annotations, annotationsOf(body)));
}
