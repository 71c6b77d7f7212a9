// Chooses and starts the topology the suite runs against, from FN_TOPOLOGY:
//   containers Postgres, node (fn-node, docker driver) and balancer containers through Testcontainers
//   processes  fn-node processes (process driver) and the balancer command, no Docker
//   swarm      the Docker Swarm stack of deploy/swarm on the local engine: fnlb finds the replicas
//              by DNS, faults go through Swarm (never chosen by auto)
//   external   an existing deployment: FN_LB and FN_NODES
//   auto       (default) external when FN_LB and FN_NODES are set, else containers when a Docker
//              engine answers, else processes; said on the first line
import { dockerAnswers, dockerSocket } from '../../src/common/docker.js';
import { ContainerTopology } from './containers.js';
import { externalTopology } from './external.js';
import { ProcessTopology, type ProcessTopologyOptions } from './processes.js';
import { SwarmTopology } from './swarm.js';
import type { Topology, TopologyKind } from './types.js';

export type { Capabilities, Capability, Faults, Topology, TopologyInfo, TopologyKind } from './types.js';

export interface TopologyChoice {
  kind: TopologyKind;
  reason: string;
}

export async function chooseTopology(env: NodeJS.ProcessEnv): Promise<TopologyChoice> {
  const wanted = (env.FN_TOPOLOGY ?? 'auto').trim();
  switch (wanted) {
    case 'processes':
    case 'external':
    case 'containers':
    case 'swarm':
      return { kind: wanted, reason: `FN_TOPOLOGY=${wanted}` };
    case 'auto':
      if (env.FN_LB && env.FN_NODES) return { kind: 'external', reason: 'auto: FN_LB and FN_NODES are set' };
      if (await dockerAnswers(dockerSocket(env.DOCKER_HOST), 2000)) {
        return {
          kind: 'containers',
          reason: `auto: a Docker engine answers on ${dockerSocket(env.DOCKER_HOST)}`,
        };
      }
      return {
        kind: 'processes',
        reason: `auto: no Docker engine answers on ${dockerSocket(env.DOCKER_HOST)}`,
      };
    default:
      throw new Error(
        `FN_TOPOLOGY=${JSON.stringify(wanted)}: expected auto, processes, external, containers or swarm`,
      );
  }
}

export async function startTopology(
  choice: TopologyChoice,
  env: NodeJS.ProcessEnv,
  options: ProcessTopologyOptions = {},
): Promise<Topology> {
  if (choice.kind === 'external') return externalTopology(env);
  if (choice.kind === 'swarm') return SwarmTopology.start({ env });
  if (choice.kind === 'containers') {
    return ContainerTopology.start({ env, ...(options.nodeEnv ? { nodeEnv: options.nodeEnv } : {}) });
  }
  return ProcessTopology.start({ ...options, env });
}
