// The dedicated LISTEN session of the Postgres datastore: delivers NOTIFY payloads of one channel, says
// whether it is currently listening, detects a dead session (error, end, or an unanswered ping, which
// catches a half-open TCP connection the kernel would take minutes to notice) and reconnects with
// exponential backoff until closed.
import pg from 'pg';
import { orAfter } from '../../common/deadline.js';
import type { DatastoreLog } from './changes.js';

export interface ListenerOptions {
  connectionString: string;
  channel: string;
  connectTimeoutMs: number;
  log: DatastoreLog;
  onNotification(payload: string): void;
  /** Called after every successful LISTEN, the first one included: changes may have been missed. */
  onListening(): void;
}

const BACKOFF_INITIAL_MS = 100;
const BACKOFF_MAX_MS = 5000;
const PING_INTERVAL_MS = 5000;
const PING_TIMEOUT_MS = 3000;

export class NotificationListener {
  readonly #options: ListenerOptions;
  #client: pg.Client | undefined;
  #live = false;
  #closed = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(options: ListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.channel)) throw new Error(`invalid channel ${options.channel}`);
    this.#options = options;
  }

  get live(): boolean {
    return this.#live;
  }

  /** Makes the first attempt; on failure keeps retrying in the background, so this never rejects. */
  start(): Promise<void> {
    return this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    this.#live = false;
    const client = this.#client;
    this.#client = undefined;
    if (client) await endOrLetGo(client, 2000);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const { connectionString, channel, connectTimeoutMs, log } = this.#options;
    const client = new pg.Client({
      connectionString,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: PING_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'fn-node:listen',
    });
    this.#client = client;
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    client.on('notification', (message) => {
      if (client === this.#client && message.channel === channel) {
        this.#options.onNotification(message.payload ?? '');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.#lost(client, err);
      return;
    }
    if (client !== this.#client) return;
    if (this.#failures > 0) log.info({ channel, failures: this.#failures }, 'postgres listener reconnected');
    this.#failures = 0;
    this.#live = true;
    this.#pingTimer = setInterval(() => this.#ping(client), PING_INTERVAL_MS).unref();
    this.#options.onListening();
  }

  #ping(client: pg.Client): void {
    client.query('SELECT 1').catch((err: unknown) => this.#lost(client, err));
  }

  #lost(client: pg.Client, err: unknown): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    this.#live = false;
    clearInterval(this.#pingTimer);
    void endOrLetGo(client, 2000);
    if (this.#closed) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** this.#failures);
    // Log the first failure of an outage loudly and the retries quietly: a database down for an hour
    // must not flood the log.
    const message = err instanceof Error ? err.message : String(err);
    if (this.#failures === 0)
      this.#options.log.warn({ err: message }, 'postgres listener lost, reconnecting');
    this.#failures += 1;
    // Jitter spreads the reconnects of many nodes after a database restart.
    this.#retryTimer = setTimeout(() => void this.#connect(), delay * (0.5 + Math.random() / 2)).unref();
  }
}

/** Ends the connection, or stops waiting for it after `ms` (a dead server may never answer the end). */
function endOrLetGo(client: pg.Client, ms: number): Promise<void> {
  return orAfter(
    client.end().catch(() => undefined),
    ms,
    undefined,
  );
}
