// The run's topology as it is now, from a test file: what inject() handed out at the start, brought up
// to date by the control server where the topology can change its nodes (Swarm replaces a task that a
// fault ended, at a new address).
import { inject } from 'vitest';
import { FaultClient } from './control.js';
import type { TopologyInfo } from './types.js';

export async function currentTopology(): Promise<TopologyInfo> {
  const provided = inject('topology');
  return provided.controlUrl ? new FaultClient(provided.controlUrl).info() : provided;
}
