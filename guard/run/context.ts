// What the guard's run setup (setup.ts) hands every property file through Vitest's provide/inject:
// the settings resolved once for the run, and the topology under test. Workers read them here and
// nowhere else: no guard code reads an environment variable by name.
import { inject } from 'vitest';
import type { GuardSettings } from '../settings/resolve.js';
import type { TopologyInfo } from '../topology/types.js';

declare module 'vitest' {
  export interface ProvidedContext {
    guardSettings: GuardSettings;
    topology: TopologyInfo;
  }
}

export function guardSettings(): GuardSettings {
  return inject('guardSettings');
}
