// The `external` backend: an already running balancer and nodes (FN_LB, FN_NODES). Nothing is
// started or stopped; test files create uniquely named apps and remove them afterwards.
import { randomBytes } from 'node:crypto';
import type { Topology, TopologyInfo } from './types.js';

function asUrl(address: string): string {
  return /^https?:\/\//.test(address) ? address.replace(/\/$/, '') : `http://${address}`;
}

function asHostPort(address: string): string {
  return address.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

export function externalTopology(env: NodeJS.ProcessEnv): Topology {
  const lb = env.FN_LB;
  const nodes = (env.FN_NODES ?? '')
    .split(',')
    .map((node) => node.trim())
    .filter(Boolean);
  if (!lb || nodes.length === 0) {
    throw new Error('FN_TOPOLOGY=external needs FN_LB=host:port and FN_NODES=host:port,host:port,...');
  }
  const info: TopologyInfo = {
    kind: 'external',
    lbUrl: asUrl(lb),
    nodes: nodes.map(asHostPort),
    nodeUrls: nodes.map(asUrl),
    appPrefix: `fng${randomBytes(3).toString('hex')}`,
    lbMgmtUrl: asUrl(env.FN_LB_MGMT ?? lb),
    database: 'external',
  };
  return { info, close: async () => {}, [Symbol.asyncDispose]: async () => {} };
}
