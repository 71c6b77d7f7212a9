// src/node/runner: runs function calls in hot containers. runner.ts
// decides (launch policy of policy.ts, memory admission of memory.ts, eviction, draining); pool.ts
// keeps each route key's waiters, starts and containers with the /stats gauges (stats.ts) in step;
// container.ts speaks a format to one instance over stdio or its socket (transport.ts); call.ts is what
// a call is; time is injected (clock.ts).

export type { CallRequest, CallResult } from './call.js';
export { type Clock, realClock, type Timer } from './clock.js';
export { CallError } from './errors.js';
export { type Capacity, detectCapacity } from './memory.js';
export { createRunner, type Runner, type RunnerOptions } from './runner.js';
