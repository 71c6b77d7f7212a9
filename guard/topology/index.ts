// Chooses and starts the topology the guard runs against, from the settings (settings/table.ts):
//   containers Postgres, node (fn-node, docker driver) and balancer containers through Testcontainers
//   processes  fn-node processes (process driver) and the balancer command, no Docker
//   swarm      the Docker Swarm stack of deploy/swarm on the local engine: fnlb finds the replicas
//              by DNS, faults go through Swarm (never chosen by auto)
//   external   an existing deployment: lb and nodes
//   auto       external when lb and nodes are set, the topology a balancer or node build needs, else
//              containers when a Docker engine answers, else processes; said on the first line
import { dockerAnswers } from '../../src/common/docker.js';
import type { GuardSettings } from '../settings/resolve.js';
import { SETTINGS } from '../settings/table.js';
import { ContainerTopology } from './containers.js';
import { externalTopology } from './external.js';
import { ProcessTopology } from './processes.js';
import { SwarmTopology } from './swarm.js';
import type { Topology, TopologyKind } from './types.js';

export type { Capabilities, Capability, Faults, Topology, TopologyInfo, TopologyKind } from './types.js';

export interface TopologyChoice {
  kind: TopologyKind;
  reason: string;
}

const ENGINE_PROBE_MS = 2000;

export async function chooseTopology(settings: GuardSettings): Promise<TopologyChoice> {
  const { topology, dockerHost } = settings;
  if (topology !== 'auto') {
    return { kind: topology, reason: settings.topologyReason ?? `${SETTINGS.topology.env}=${topology}` };
  }
  if (await dockerAnswers(dockerHost, ENGINE_PROBE_MS)) {
    return { kind: 'containers', reason: `auto: a Docker engine answers on ${dockerHost}` };
  }
  return { kind: 'processes', reason: `auto: no Docker engine answers on ${dockerHost}` };
}

/** Settings that the chosen topology does not read, said once so none is thought to have acted. */
export function unreadSettings(kind: TopologyKind, settings: GuardSettings): string[] {
  return Object.entries(SETTINGS).flatMap(([key, entry]) => {
    const origin = settings.origin[key as keyof typeof SETTINGS];
    const readOn: readonly TopologyKind[] | undefined = 'readOn' in entry ? entry.readOn : undefined;
    return origin && readOn && !readOn.includes(kind)
      ? [`${origin} is set, but the ${kind} topology does not read it (${readOn.join(', ')} do)`]
      : [];
  });
}

export async function startTopology(
  choice: TopologyChoice,
  settings: GuardSettings,
  database: { dbUrl?: string } = {},
): Promise<Topology> {
  if (choice.kind === 'external') return externalTopology(settings);
  if (choice.kind === 'swarm') return SwarmTopology.start(settings);
  if (choice.kind === 'containers') return ContainerTopology.start(settings);
  if (settings.nodePreset !== 'fn-node') {
    throw new Error(
      `${settings.origin.nodePreset}: the processes topology runs this project's fn-node only (preset fn-node)`,
    );
  }
  return ProcessTopology.start({
    ...(database.dbUrl ? { dbUrl: database.dbUrl } : {}),
    ...(settings.balancerCommand ? { balancerCommand: settings.balancerCommand } : {}),
    ...(settings.nodeEnv ? { nodeEnv: settings.nodeEnv } : {}),
    api: settings.api,
  });
}
