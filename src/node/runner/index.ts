// src/node/runner: runs function calls in hot containers (DESIGN section 3, "Runner"). runner.ts owns
// pools, the launch policy (policy.ts), memory admission (memory.ts) and the /stats counters
// (stats.ts); container.ts speaks a format to one instance; time is injected (clock.ts).
export { type Clock, realClock, type Timer } from './clock.js';
export { CallError } from './errors.js';
export { type Capacity, detectCapacity } from './memory.js';
export {
  type CallRequest,
  type CallResult,
  createRunner,
  type Runner,
  type RunnerOptions,
} from './runner.js';
