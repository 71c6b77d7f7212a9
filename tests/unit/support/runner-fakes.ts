// Test doubles for driving the runner's policy deterministically: a fake clock, and a driver whose
// instances are in-memory streams that a test answers (http format) when it chooses. Real processes
// are covered by tests/integration/runner-*.test.ts.
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { sampleRoute } from '../../../helpers/sample-route.js';
import { encodeHttpResponse, Http1Reader } from '../../../src/common/framing/http1.js';
import type { App, Route } from '../../../src/common/wire.js';
import type { Driver, ExitInfo, Instance, InstanceSpec } from '../../../src/node/drivers/driver.js';
import type { CallRequest } from '../../../src/node/runner/call.js';
import type { Clock, Timer } from '../../../src/node/runner/clock.js';

export class FakeClock implements Clock {
  private time = 0;
  private timers: { at: number; callback: () => void; live: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const timer = { at: this.time + ms, callback, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.time = due.at;
      due.live = false;
      due.callback();
    }
    this.time = end;
  }
}

/** Lets stream events and promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

export class FakeInstance implements Instance {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<ExitInfo>;
  readonly pid = undefined;
  /** Requests received and not yet answered. */
  pending = 0;
  served = 0;
  stoppedWith: { force: boolean } | undefined;
  private endWith!: (exit: ExitInfo) => void;
  private ended = false;

  constructor(readonly spec: InstanceSpec) {
    this.exited = new Promise((resolve) => {
      this.endWith = resolve;
    });
    const reader = new Http1Reader('request');
    this.stdin.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      while (reader.next()) this.pending++;
    });
  }

  get id(): string {
    return this.spec.id;
  }

  respond(body = 'ok'): void {
    if (this.pending === 0) throw new Error(`instance ${this.id} has no pending request`);
    this.pending--;
    this.served++;
    this.stdout.write(encodeHttpResponse(200, 'OK', {}, Buffer.from(body)));
  }

  write(bytes: string): void {
    this.stdout.write(bytes);
  }

  exit(exit: ExitInfo): void {
    if (this.ended) return;
    this.ended = true;
    this.stdout.end();
    this.stderr.end();
    // As a real driver: exit is reported after the output was read.
    setImmediate(() => this.endWith(exit));
  }

  stop(options: { force?: boolean } = {}): Promise<ExitInfo> {
    this.stoppedWith ??= { force: options.force === true };
    this.exit({ code: 0, signal: null, reason: 'stopped' });
    return this.exited;
  }
}

interface PendingStart {
  spec: InstanceSpec;
  resolve(instance: Instance): void;
  reject(error: Error): void;
}

export class FakeDriver implements Driver {
  readonly kind = 'process';
  readonly pendingStarts: PendingStart[] = [];
  readonly instances: FakeInstance[] = [];
  closed = false;

  start(spec: InstanceSpec): Promise<Instance> {
    return new Promise((resolve, reject) => this.pendingStarts.push({ spec, resolve, reject }));
  }

  /** Completes the oldest pending start (or the one for `image`). */
  finishStart(image?: string): FakeInstance {
    const index = image === undefined ? 0 : this.pendingStarts.findIndex((s) => s.spec.image === image);
    const [start] = this.pendingStarts.splice(index, 1);
    if (start === undefined) throw new Error('no pending start');
    const instance = new FakeInstance(start.spec);
    this.instances.push(instance);
    start.resolve(instance);
    return instance;
  }

  failStart(error: Error): void {
    const start = this.pendingStarts.shift();
    if (start === undefined) throw new Error('no pending start');
    start.reject(error);
  }

  live(): FakeInstance[] {
    return this.instances.filter((i) => i.stoppedWith === undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export const silentLogger = pino({ level: 'silent' });

/** A route of the fake driver: http format, an image named after the path. */
export function testRoute(path: string, overrides: Partial<Route> = {}): Route {
  return sampleRoute('app', path, { image: `test${path}`, format: 'http', ...overrides });
}

const APP: App = { name: 'app', config: {} };
let sequence = 0;

export function testCall(route: Route): CallRequest {
  sequence++;
  return {
    id: `call-${sequence}`,
    app: APP,
    route,
    method: 'GET',
    requestUrl: `http://127.0.0.1/r/app${route.path}`,
    headers: {},
    body: Buffer.alloc(0),
  };
}
