// The `external` backend: an already running balancer and nodes (the lb and nodes settings). Nothing
// is started or stopped by the guard itself; faults run the operator's own commands, each with
// {node} replaced by a node as the nodes setting names it:
//   nodeKillCmd   kill the node abruptly (SIGKILL, docker kill, ...)
//   nodeStopCmd   stop it gracefully (SIGTERM, docker stop, ...), returning once it has exited
//   nodeStartCmd  start it again at the same address, returning once it was launched
//   nodeFreezeCmd freeze it: every process of it stops running, its connections left open (kill
//                 -STOP, docker pause); nodeThawCmd lets it run again (kill -CONT, docker unpause)
// A fault without its command is a capability the topology lacks, and the properties needing it are
// skipped saying which setting to give. nodesDockerHost names the Docker engine the nodes run their
// functions on, when the guard can reach it: node properties are then counted there for nodes that
// serve no /stats. Test files create uniquely named apps and remove them.
// The deployment is expected up: before anything else the balancer, its management API (when named
// apart) and every node must answer at all, within ANSWER_BUDGET_MS, and an address that refuses the
// connection fails the setup at once, naming it (a SetupError: setup-error.ts).
import { exec } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { GuardSettings } from '../settings/resolve.js';
import { SETTINGS } from '../settings/table.js';
import { DownNodes } from './down-nodes.js';
import { LbManagement } from './lb-management.js';
import {
  type AnswerTarget,
  checkAnswers,
  probeCapabilities,
  waitForBalancer,
  waitUntilNodesOnline,
  waitUntilServing,
} from './probe.js';
import { duringStep } from './setup-error.js';
import type { Capability, Faults, Topology, TopologyInfo } from './types.js';

const COMMAND_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 30_000;
/** How long an address that does not answer (rather than refuse) is asked again before the setup fails. */
const ANSWER_BUDGET_MS = 4000;

const FAULT_COMMANDS = {
  kill: 'nodeKillCmd',
  stop: 'nodeStopCmd',
  start: 'nodeStartCmd',
  freeze: 'nodeFreezeCmd',
  thaw: 'nodeThawCmd',
} as const satisfies Record<string, keyof GuardSettings>;

/** What the external topology reads of the settings. */
export type ExternalSettings = Pick<
  GuardSettings,
  | 'functionImages'
  | 'lb'
  | 'nodes'
  | 'lbMgmt'
  | 'mgmtToken'
  | 'lbHcInterval'
  | 'nodesDockerHost'
  | 'api'
  | (typeof FAULT_COMMANDS)[keyof typeof FAULT_COMMANDS]
>;

const asUrl = (hostPort: string) => `http://${hostPort}`;

function runCommand(setting: string, template: string, node: string): Promise<void> {
  const command = template.replaceAll('{node}', node);
  return new Promise((resolve, reject) => {
    exec(command, { timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${setting} (${command}) failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** How a setting is named in a skip reason: the variable, which a user sets most often. */
const variable = (key: keyof typeof SETTINGS) => SETTINGS[key].env ?? key;

export async function externalTopology(settings: ExternalSettings): Promise<Topology> {
  const { lb, nodes } = settings;
  if (lb === undefined || nodes === undefined) {
    throw new Error(
      `the external topology needs the balancer and its nodes: ${variable('lb')}=host:port and ${variable('nodes')}=host:port,host:port,... (or --lb and --nodes)`,
    );
  }
  const partial = {
    lbUrl: asUrl(lb),
    lbMgmtUrl: asUrl(settings.lbMgmt ?? lb),
    ...(settings.mgmtToken ? { mgmtToken: settings.mgmtToken } : {}),
    nodes,
    nodeUrls: nodes.map(asUrl),
    appPrefix: `fng${randomBytes(3).toString('hex')}`,
    functionImages: settings.functionImages,
  };
  const targets: AnswerTarget[] = [
    { role: 'balancer', address: lb, url: partial.lbUrl, step: 'checking that it answers' },
    ...(settings.lbMgmt !== undefined && settings.lbMgmt !== lb
      ? [
          {
            role: 'balancer' as const,
            address: settings.lbMgmt,
            url: partial.lbMgmtUrl,
            step: 'checking that its management API answers',
          },
        ]
      : []),
    ...nodes.map((node, index) => ({
      role: 'node' as const,
      address: node,
      url: partial.nodeUrls[index] as string,
      step: 'checking that it answers',
    })),
  ];
  await checkAnswers(targets, ANSWER_BUDGET_MS);
  const api = await waitForBalancer(partial, READY_TIMEOUT_MS, settings.api, { refusedIsFinal: true });
  const engineSocket = settings.nodesDockerHost;
  const probed = await probeCapabilities(
    partial,
    engineSocket
      ? { socketPath: engineSocket }
      : {
          missing: `external: ${variable('nodesDockerHost')} (the engine the nodes run their functions on) not set`,
        },
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
    await duringStep(
      {
        role: 'balancer',
        address: settings.lbMgmt ?? lb,
        step: `waiting until its management API reports ${listed.join(', ')} online`,
      },
      () => waitUntilNodesOnline(partial, listed, READY_TIMEOUT_MS),
    );
  }
  const missing: Partial<Record<Capability, string>> = { ...probed.missing };
  const faults: Faults = {};
  for (const [fault, key] of Object.entries(FAULT_COMMANDS) as [
    keyof typeof FAULT_COMMANDS,
    (typeof FAULT_COMMANDS)[keyof typeof FAULT_COMMANDS],
  ][]) {
    const template = settings[key];
    if (template === undefined) {
      // thaw is no capability of its own: freeze needs both commands (below).
      if (fault !== 'thaw') missing[fault] = `external: ${variable(key)} not set`;
      continue;
    }
    faults[fault] = (node) => runCommand(variable(key), template, node);
  }
  const start = faults.start;
  if (start) {
    faults.start = async (node) => {
      await start(node);
      const url = partial.nodeUrls[partial.nodes.indexOf(node)] ?? asUrl(node);
      await waitUntilServing(node, url, READY_TIMEOUT_MS);
    };
  }
  // Freezing needs both commands: a node frozen for good is no test of anything.
  if ((faults.freeze === undefined) !== (faults.thaw === undefined)) {
    missing.freeze = `external: ${variable('nodeFreezeCmd')} and ${variable('nodeThawCmd')} go together`;
    delete faults.freeze;
    delete faults.thaw;
  }
  missing.add = 'external: the suite cannot start a node in a deployment it does not own';
  missing.discover = missing.add;
  if (missing.start) missing.restore = missing.start;
  const info: TopologyInfo = {
    kind: 'external',
    ...partial,
    ...api,
    database: 'external',
    balancer: {
      label: `external at ${partial.lbUrl}`,
      hcIntervalS: settings.lbHcInterval,
      upstreamTimeoutS: undefined,
    },
    nodeBuild: 'external',
    capabilities: {
      ...probed.capabilities,
      kill: faults.kill !== undefined,
      stop: faults.stop !== undefined,
      start: faults.start !== undefined,
      add: false,
      freeze: faults.freeze !== undefined,
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
