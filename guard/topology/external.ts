// The `external` backend: an already running balancer and nodes (FN_LB, FN_NODES). Nothing is started
// or stopped by the suite itself; faults run the operator's own commands, each with {node} replaced
// by a node as FN_NODES names it:
//   FN_NODE_KILL_CMD   kill the node abruptly (SIGKILL, docker kill, ...)
//   FN_NODE_STOP_CMD   stop it gracefully (SIGTERM, docker stop, ...), returning once it has exited
//   FN_NODE_START_CMD  start it again at the same address, returning once it was launched
// A fault without its command is a capability the topology lacks, and the properties needing it are
// skipped saying which variable to set. FN_NODES_DOCKER_HOST (unix:///path or a path) names the Docker
// engine the nodes run their functions on, when the suite can reach it: node properties are then
// counted there for nodes that serve no /stats. Test files create uniquely named apps and remove them.
import { exec } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DownNodes } from './down-nodes.js';
import { LbManagement } from './lb-management.js';
import { probeCapabilities, waitForBalancer, waitUntilNodesOnline, waitUntilServing } from './probe.js';
import type { Capability, Faults, Topology, TopologyInfo } from './types.js';

const COMMAND_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 30_000;

const FAULT_COMMANDS = {
  kill: 'FN_NODE_KILL_CMD',
  stop: 'FN_NODE_STOP_CMD',
  start: 'FN_NODE_START_CMD',
} as const;

function asUrl(address: string): string {
  return /^https?:\/\//.test(address) ? address.replace(/\/$/, '') : `http://${address}`;
}

function asHostPort(address: string): string {
  return address.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

function runCommand(variable: string, template: string, node: string): Promise<void> {
  const command = template.replaceAll('{node}', node);
  return new Promise((resolve, reject) => {
    exec(command, { timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${variable} (${command}) failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

export async function externalTopology(env: NodeJS.ProcessEnv): Promise<Topology> {
  const lb = env.FN_LB;
  const nodes = (env.FN_NODES ?? '')
    .split(',')
    .map((node) => node.trim())
    .filter(Boolean);
  if (!lb || nodes.length === 0) {
    throw new Error('FN_TOPOLOGY=external needs FN_LB=host:port and FN_NODES=host:port,host:port,...');
  }
  const partial = {
    lbUrl: asUrl(lb),
    lbMgmtUrl: asUrl(env.FN_LB_MGMT ?? lb),
    ...(env.FNLB_MGMT_TOKEN ? { mgmtToken: env.FNLB_MGMT_TOKEN } : {}),
    nodes: nodes.map(asHostPort),
    nodeUrls: nodes.map(asUrl),
    appPrefix: `fng${randomBytes(3).toString('hex')}`,
  };
  await waitForBalancer(partial, READY_TIMEOUT_MS);
  const engineSocket = env.FN_NODES_DOCKER_HOST?.replace(/^unix:\/\//, '');
  const probed = await probeCapabilities(
    partial,
    engineSocket
      ? { socketPath: engineSocket }
      : { missing: 'external: FN_NODES_DOCKER_HOST (the engine the nodes run their functions on) not set' },
  );
  if (probed.capabilities.mgmtApi) {
    // As on the topologies the suite starts: begin with every node the balancer lists online.
    const view = (await new LbManagement(partial).nodes()) ?? {};
    const listed = partial.nodes.filter((node) => node in view);
    const unlisted = partial.nodes.filter((node) => !(node in view));
    if (unlisted.length > 0)
      console.warn(
        `[external] the balancer does not list ${unlisted.join(', ')} under those names: ${JSON.stringify(view)}`,
      );
    await waitUntilNodesOnline(partial, listed, READY_TIMEOUT_MS);
  }
  const missing: Partial<Record<Capability, string>> = { ...probed.missing };
  const faults: Faults = {};
  for (const [fault, variable] of Object.entries(FAULT_COMMANDS) as [keyof typeof FAULT_COMMANDS, string][]) {
    const template = env[variable];
    if (!template) {
      missing[fault] = `external: ${variable} not set`;
      continue;
    }
    faults[fault] = (node) => runCommand(variable, template, node);
  }
  const start = faults.start;
  if (start) {
    faults.start = async (node) => {
      await start(node);
      const url = partial.nodeUrls[partial.nodes.indexOf(node)] ?? asUrl(node);
      await waitUntilServing(node, url, READY_TIMEOUT_MS);
    };
  }
  missing.add = 'external: the suite cannot start a node in a deployment it does not own';
  missing.discover = missing.add;
  if (missing.start) missing.restore = missing.start;
  const hc = Number(env.FN_LB_HC_INTERVAL ?? '');
  const info: TopologyInfo = {
    kind: 'external',
    ...partial,
    database: 'external',
    balancer: {
      label: `external at ${partial.lbUrl}`,
      hcIntervalS: Number.isFinite(hc) && hc > 0 ? hc : undefined,
      upstreamTimeoutS: undefined,
    },
    nodeBuild: 'external',
    capabilities: {
      ...probed.capabilities,
      kill: faults.kill !== undefined,
      stop: faults.stop !== undefined,
      start: faults.start !== undefined,
      add: false,
      restore: faults.start !== undefined,
      discover: false,
    },
    missing,
    ...(probed.capabilities.engineEvents && engineSocket ? { engine: { socketPath: engineSocket } } : {}),
  };
  const down = new DownNodes();
  const tracked = down.track(faults);
  return {
    info,
    faults: tracked,
    restore: async () => {
      const { start: startAgain } = tracked;
      if (startAgain) await down.restore(startAgain);
    },
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
}
