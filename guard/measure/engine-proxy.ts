// A recording proxy of the Docker API socket. The topology mounts its socket into the nodes instead of
// the engine's, so every container a node creates is seen in its create request, with the environment
// and hostname it asks for, before the engine acts; nothing can be gone before it is looked at, as a
// container can be when it is inspected after the engine's create event (an Fn server under a burst
// removes containers within milliseconds). Bytes pass through unchanged in both directions; the
// proxy only reads along: requests and answers are framed by an HTTP/1.1 parser until a connection is
// handed over as a container's stream (an Upgrade, or an attach or exec the engine answers with its
// stream type), after which it is a plain pipe. A stream it cannot read as HTTP otherwise is logged as a
// gap: counts from then on are not trusted, never silently short. Each create is written to a log
// (JSON lines) when it is asked for, and its answer's status when that arrives, so the suite's workers
// read the same record the run's setup wrote (engine-record.ts).
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTPParser } from 'http-parser-js';
import { hostnameOf, routeOfEnv } from './container-env.js';

/** One create request, as the log holds it. */
export interface CreateAsked {
  seq: number;
  /** Wall clock, ms since the epoch. */
  at: number;
  image: string;
  /** The name it asks to run under: its HOSTNAME variable, else its Hostname. */
  hostname: string;
  /** `<app><path>` of the route it runs, when its environment says. */
  route: string | undefined;
  /** Its configuration could not be read (a body over the limit, or not JSON). */
  unreadable?: string;
}

/** The engine's answer to create `seq`: its status, or null when none came (the connection ended). */
export interface CreateAnswered {
  seq: number;
  status: number | null;
}

/** From here on, creates may be missing from the log, and why. */
export interface Uncounted {
  uncounted: string;
}

export type EngineLogLine = { asked: CreateAsked } | { answered: CreateAnswered } | Uncounted;

/** A create body larger than this is not read (Fn's and fn-node's are a few KiB). */
const MAX_CREATE_BODY = 1024 * 1024;
/** Creates logged at most per run; past it the proxy still forwards, and says it stopped counting. */
const MAX_LOGGED = 200_000;
/** How long the engine may take to accept a connection the proxy opens for a node. */
const CONNECT_TIMEOUT_MS = 10_000;

const CREATE_PATH = /^(?:\/v[\d.]+)?\/containers\/create(?:\?|$)/;
/** Requests after which the engine hands the connection over as a raw stream. */
const HIJACKING_PATH = /^(?:\/v[\d.]+)?\/(?:containers\/[^/]+\/attach|exec\/[^/]+\/start)(?:\?|$)/;

interface Exchange {
  method: string;
  create: boolean;
  /** An attach or exec start: the engine may hand the connection over as the container's stream. */
  hijack: boolean;
  body: Buffer[];
  bodyBytes: number;
  /** The create's log sequence, once its request is complete. */
  seq?: number;
}

const RAW_STREAM = /^application\/vnd\.docker\.(?:raw|multiplexed)-stream/i;

/** Whether an answer's headers ([name, value, ...]) hand the connection over as the container's stream. */
function rawStream(headers: readonly string[]): boolean {
  for (let index = 0; index + 1 < headers.length; index += 2)
    if (headers[index]?.toLowerCase() === 'content-type' && RAW_STREAM.test(headers[index + 1] ?? ''))
      return true;
  return false;
}

function envList(body: unknown): string[] {
  const env = (body as { Env?: unknown } | null)?.Env;
  return Array.isArray(env) ? env.filter((entry): entry is string => typeof entry === 'string') : [];
}

function describeCreate(body: Buffer | undefined, seq: number): CreateAsked {
  const asked: CreateAsked = { seq, at: Date.now(), image: '', hostname: '', route: undefined };
  if (body === undefined) return { ...asked, unreadable: `a body over ${MAX_CREATE_BODY} bytes` };
  try {
    const config = JSON.parse(body.toString('utf8')) as { Image?: unknown; Hostname?: unknown };
    const env = envList(config);
    return {
      ...asked,
      image: typeof config.Image === 'string' ? config.Image : '',
      hostname: hostnameOf(env, config.Hostname),
      route: routeOfEnv(env),
    };
  } catch (error) {
    return { ...asked, unreadable: `not JSON (${(error as Error).message})` };
  }
}

export class EngineProxy {
  readonly #server: Server;
  readonly #log: number;
  readonly #sockets = new Set<Socket>();
  #seq = 0;
  #saidUncounted = false;
  #closed = false;
  /** A directory of its own the proxy removes when it closes (inTempDir). */
  #ownDir: string | undefined;
  private constructor(
    server: Server,
    log: number,
    /** The socket the nodes get as their engine's, and the log of what they created. */
    readonly socketPath: string,
    readonly logPath: string,
  ) {
    this.#server = server;
    this.#log = log;
  }

  /** A proxy with its socket and log in a new directory below the system's temporary one. */
  static async inTempDir(engineSocket: string, name: string): Promise<EngineProxy> {
    const dir = mkdtempSync(join(tmpdir(), `fnguard-engine-${name}-`));
    try {
      const proxy = await EngineProxy.start({
        engineSocket,
        socketPath: join(dir, 'docker.sock'),
        logPath: join(dir, 'creates.jsonl'),
      });
      proxy.#ownDir = dir;
      return proxy;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Serves `socketPath` in front of the engine at `engineSocket`, logging creates to `logPath`. The
   * socket gets the engine socket's mode, so whoever may use the engine may use the proxy.
   */
  static async start(options: {
    engineSocket: string;
    socketPath: string;
    logPath: string;
  }): Promise<EngineProxy> {
    const log = openSync(options.logPath, 'a');
    const server = createServer();
    const proxy = new EngineProxy(server, log, options.socketPath, options.logPath);
    server.on('connection', (client) => proxy.#connection(client, options.engineSocket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(options.socketPath, statSync(options.engineSocket).mode & 0o777);
    return proxy;
  }

  #write(line: EngineLogLine): void {
    try {
      writeSync(this.#log, `${JSON.stringify(line)}\n`);
    } catch (error) {
      // Nothing can be written to say so: the run's output must.
      console.error(`[engine-proxy] could not log a create: ${(error as Error).message}`);
    }
  }

  /** Says once, in the log, that creates may be missing from it from now on. */
  #uncounted(why: string): void {
    if (this.#saidUncounted) return;
    this.#saidUncounted = true;
    this.#write({ uncounted: why });
  }

  /** Logs a create's request; beyond the run's limit, once, a line saying counting stopped. */
  #asked(body: Buffer | undefined): number | undefined {
    if (this.#seq >= MAX_LOGGED) {
      this.#uncounted(`the log holds at most ${MAX_LOGGED} creates`);
      return undefined;
    }
    const seq = ++this.#seq;
    this.#write({ asked: describeCreate(body, seq) });
    return seq;
  }

  #connection(client: Socket, engineSocket: string): void {
    const engine = createConnection({ path: engineSocket, timeout: CONNECT_TIMEOUT_MS });
    engine.once('connect', () => engine.setTimeout(0));
    engine.once('timeout', () => engine.destroy(new Error('the engine did not accept the connection')));
    this.#sockets.add(client);
    client.pipe(engine);
    engine.pipe(client);

    const waiting: Exchange[] = [];
    // Once the connection is handed over as a raw stream, neither direction is HTTP any more.
    let opaque = false;
    const requests = new HTTPParser(HTTPParser.REQUEST);
    let current: Exchange | undefined;
    let upgrading = false;
    requests[HTTPParser.kOnHeadersComplete] = (info) => {
      const method = HTTPParser.methods[info.method] ?? '';
      current = {
        method,
        create: method === 'POST' && CREATE_PATH.test(info.url),
        hijack: HIJACKING_PATH.test(info.url),
        body: [],
        bodyBytes: 0,
      };
      upgrading = info.upgrade;
      waiting.push(current);
    };
    requests[HTTPParser.kOnBody] = (chunk, offset, length) => {
      if (!current?.create || current.bodyBytes > MAX_CREATE_BODY) return;
      current.bodyBytes += length;
      current.body.push(Buffer.from(chunk.subarray(offset, offset + length)));
    };
    requests[HTTPParser.kOnMessageComplete] = () => {
      if (current?.create) {
        const body = current.bodyBytes > MAX_CREATE_BODY ? undefined : Buffer.concat(current.body);
        current.seq = this.#asked(body);
        current.body = [];
      }
      // A request asking for an Upgrade is followed by the stream the engine hands over.
      if (upgrading) opaque = true;
    };

    const answers = new HTTPParser(HTTPParser.RESPONSE);
    answers[HTTPParser.kOnHeadersComplete] = (info) => {
      if (info.statusCode >= 100 && info.statusCode < 200 && info.statusCode !== 101) return undefined;
      const exchange = waiting.shift();
      if (exchange?.seq !== undefined)
        this.#write({ answered: { seq: exchange.seq, status: info.statusCode } });
      // The engine hijacks an attach or exec without an Upgrade by answering with its stream type.
      if (info.statusCode === 101 || (exchange?.hijack && rawStream(info.headers))) opaque = true;
      const bodiless = exchange?.method === 'HEAD' || info.statusCode === 204 || info.statusCode === 304;
      return bodiless ? 1 : undefined;
    };

    const read = (parser: InstanceType<typeof HTTPParser>) => (chunk: Buffer) => {
      if (opaque) return;
      if (!(parser.execute(chunk) instanceof Error)) return;
      opaque = true;
      // After a hijacking request the client may write its stream before the engine answers; any
      // other stream this parser cannot read may carry creates it would miss: the log says so.
      if (!current?.hijack) this.#uncounted('a connection to the engine could not be read as HTTP');
    };
    client.on('data', read(requests));
    engine.on('data', read(answers));

    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.#sockets.delete(client);
      // A create whose answer never came may still have made a container: it is logged as unanswered.
      for (const exchange of waiting.splice(0))
        if (exchange.seq !== undefined) this.#write({ answered: { seq: exchange.seq, status: null } });
      client.destroy();
      engine.destroy();
    };
    client.on('close', end);
    engine.on('close', end);
    client.on('error', end);
    engine.on('error', end);
  }

  /**
   * Stops serving: open connections are cut (the topology is gone by then) and the log closed, and
   * removed with its directory when the proxy made that. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    closeSync(this.#log);
    if (this.#ownDir !== undefined) rmSync(this.#ownDir, { recursive: true, force: true });
  }
}
