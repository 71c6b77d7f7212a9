// How the suite meets a balancer and nodes it knows nothing about: it waits the same way for any
// balancer (a call through it answers 200, on a probe route created through a node), then measures
// what the deployment offers instead of assuming it: fnlb's management API (read, and write with the
// token or from loopback), per-route counters on every node (GET /stats), and a Docker engine the
// nodes run their functions on that answers the suite (for counting containers there). A step that
// fails is a SetupError naming the balancer or the node, its address and the step (setup-error.ts);
// for a deployment the guard did not start, every address is first asked for any answer at all, and
// one that refuses the connection fails at once (checkAnswers).

import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { tryWaitUntil, waitUntil } from '../../helpers/wait.js';
import { within } from '../../src/common/deadline.js';
import { FnClient } from '../../src/common/fn-client.js';
import { functionImage } from '../../src/common/function-images.js';
import { LB_PATHS } from '../../src/common/lb-wire.js';
import type { NodeStats } from '../../src/common/wire.js';
import { chooseApi, type FnApiChoice, type FnApiVersion, fnApi, offeredApis } from './fn-api.js';
import { LbManagement, parseNodes } from './lb-management.js';
import {
  addressOf,
  duringStep,
  isFinalConnectError,
  oneLine,
  SetupError,
  type SetupStep,
} from './setup-error.js';
import type { Capabilities, Capability, TopologyInfo } from './types.js';

const PROBE_TIMEOUT_MS = 5000;

/** What a topology that starts its nodes itself, at addresses it keeps, can do to them. */
export const OWN_NODE_FAULTS = {
  kill: true,
  stop: true,
  start: true,
  add: true,
  freeze: true,
  restore: true,
  discover: false,
} as const;

/** Why `discover` is missing where the topology hands the balancer its node list. */
export const NO_DISCOVERY =
  'the topology gives the balancer its node list: a node it adds joins only through the management API';

export interface Probed {
  capabilities: Pick<Capabilities, 'mgmtApi' | 'mgmtWrite' | 'nodeStats' | 'engineEvents' | 'nodeCounters'>;
  missing: Partial<Record<Capability, string>>;
}

/** The engine the topology's nodes start their functions on, or why there is none to watch. */
export type EngineOffer = { socketPath: string } | { missing: string };

async function engineAnswers(offer: EngineOffer): Promise<string | undefined> {
  if ('missing' in offer) return offer.missing;
  try {
    await within('ping', new Docker({ socketPath: offer.socketPath }).ping(), 2000);
    return undefined;
  } catch (error) {
    return `the Docker engine at ${offer.socketPath} does not answer: ${(error as Error).message}`;
  }
}

/** The steps of waitForBalancer, as a failed one is named. */
export const PROBE_STEPS = {
  api: 'asking which Fn API it offers',
  app: 'creating the probe app',
  route: 'creating the probe route',
  call: 'calling the probe route through it',
} as const;

export interface WaitForBalancerOptions {
  /**
   * A refused connection to the balancer ends the wait at once: right for a deployment that should
   * be up already (external), not for one still starting.
   */
  refusedIsFinal?: boolean;
}

/**
 * Finds the Fn API the run speaks (fn-api.ts: asked of the first node, or of `apiUrl`), then waits
 * until a call through the balancer answers 200, on a probe route it creates there and removes.
 * Fails with a SetupError naming the node or the balancer and the step.
 */
export async function waitForBalancer(
  info: Pick<TopologyInfo, 'lbUrl' | 'nodeUrls' | 'appPrefix' | 'apiUrl' | 'functionImages'>,
  timeoutMs: number,
  choice: FnApiChoice,
  options: WaitForBalancerOptions = {},
): Promise<{ api: FnApiVersion; apiReason: string }> {
  const apiUrl = info.apiUrl ?? (info.nodeUrls[0] as string);
  const node = (step: string): SetupStep => ({ role: 'node', address: addressOf(apiUrl), step });
  const client = new FnClient(apiUrl, { timeoutMs: PROBE_TIMEOUT_MS });
  const chosen = await duringStep(node(PROBE_STEPS.api), async () =>
    chooseApi(choice, await offeredApis(client), apiUrl),
  );
  const api = fnApi(chosen.version, client);
  const lb = new FnClient(info.lbUrl, { timeoutMs: PROBE_TIMEOUT_MS });
  const app = `${info.appPrefix}-probe${randomBytes(2).toString('hex')}`;
  await duringStep(node(PROBE_STEPS.app), () => api.createApp(app));
  try {
    await duringStep(node(PROBE_STEPS.route), () =>
      api.createRoute(app, {
        path: '/probe',
        image: functionImage('echo', info.functionImages),
        format: 'http',
      }),
    );
    const balancer: SetupStep = { role: 'balancer', address: addressOf(info.lbUrl), step: PROBE_STEPS.call };
    let last = 'no answer yet';
    let final: unknown;
    const waited = await tryWaitUntil(
      `a call through the balancer at ${info.lbUrl} to answer 200`,
      async () => {
        try {
          const result = await lb.send('POST', api.invokePath(app, '/probe'), 'probe');
          last = `${result.status} ${result.body.slice(0, 200)}`;
          return result.status === 200;
        } catch (error) {
          last = String(error);
          if (options.refusedIsFinal && isFinalConnectError(error)) final = error;
          return final !== undefined;
        }
      },
      timeoutMs,
      100,
    );
    if (final !== undefined) throw new SetupError(balancer, final);
    if (waited === undefined) {
      throw new SetupError(balancer, undefined, {
        problem: `did not answer 200 within ${seconds(timeoutMs / 1000)}`,
        detail: `last answer: ${oneLine(last)}`,
      });
    }
  } finally {
    await api.deleteApp(app).catch(() => {});
  }
  return { api: chosen.version, apiReason: chosen.reason };
}

/** An address the guard must reach before anything else: the balancer, its management API, a node. */
export interface AnswerTarget extends SetupStep {
  url: string;
}

/** One attempt to be answered: long enough for a loaded machine, short enough to try again. */
const ANSWER_ATTEMPT_MS = 2000;

/**
 * Asks every target for any HTTP answer at all (GET /, whatever its status), at once: an address
 * that refuses the connection or whose name does not resolve fails at once; one that does not answer
 * is asked again until `budgetMs` has passed. Fails with the SetupError of the first target, in the
 * order given, that did not answer.
 */
export async function checkAnswers(targets: readonly AnswerTarget[], budgetMs: number): Promise<void> {
  const deadline = performance.now() + budgetMs;
  const answers = async (target: AnswerTarget): Promise<void> => {
    for (;;) {
      // An attempt ends by its own deadline, and never past the budget (undici's timers are coarse).
      const left = Math.max(1, deadline - performance.now());
      const client = new FnClient(target.url, { timeoutMs: Math.ceil(Math.min(ANSWER_ATTEMPT_MS, left)) });
      try {
        await within(`GET ${target.url}/`, client.send('GET', '/'), left);
        return;
      } catch (error) {
        if (isFinalConnectError(error)) throw new SetupError(target, error);
        if (performance.now() + 100 >= deadline) {
          throw new SetupError(target, error, {
            problem: `did not answer within ${seconds(budgetMs / 1000)}`,
            detail: oneLine(error instanceof Error ? error.message : String(error)),
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const settled = await Promise.allSettled(targets.map(answers));
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function probeCapabilities(
  info: Pick<TopologyInfo, 'lbMgmtUrl' | 'mgmtToken' | 'nodes' | 'nodeUrls'>,
  engine: EngineOffer,
): Promise<Probed> {
  const missing: Partial<Record<Capability, string>> = {};
  let mgmtApi = false;
  let mgmtWrite = false;
  if (info.lbMgmtUrl === undefined) {
    missing.mgmtApi = 'no management API address';
  } else {
    const mgmt = new LbManagement(info);
    const read = await mgmt.send('GET', LB_PATHS.nodes).catch(() => undefined);
    mgmtApi = read?.status === 200 && parseNodes(read.body) !== undefined;
    if (!mgmtApi) {
      missing.mgmtApi = `no management API: GET ${info.lbMgmtUrl}${LB_PATHS.nodes} answered ${read ? read.status : 'nothing'}`;
    } else {
      // Adding a node the balancer already has changes nothing on fnlb; it tells whether writes are allowed.
      const write = await mgmt.send('PUT', LB_PATHS.nodes, { node: info.nodes[0] }).catch(() => undefined);
      mgmtWrite = write?.status === 200;
      if (!mgmtWrite) {
        missing.mgmtWrite = `the management API refuses node changes (PUT answered ${write ? `${write.status} ${write.body.slice(0, 120)}` : 'nothing'})`;
      }
    }
  }
  if (!mgmtApi) missing.mgmtWrite = missing.mgmtApi;

  const stats = await Promise.all(
    info.nodeUrls.map((url) =>
      new FnClient(url, { timeoutMs: PROBE_TIMEOUT_MS }).stats().catch(() => undefined),
    ),
  );
  const without = info.nodes.filter((_, index) => !isNodeStats(stats[index]));
  const nodeStats = without.length === 0;
  if (!nodeStats) missing.nodeStats = `no per-route counters (GET /stats) on ${without.join(', ')}`;
  const noEngine = await engineAnswers(engine);
  if (noEngine !== undefined) missing.engineEvents = noEngine;
  const engineEvents = noEngine === undefined;
  if (!nodeStats && !engineEvents) missing.nodeCounters = `${missing.nodeStats}, and ${noEngine}`;
  return {
    capabilities: { mgmtApi, mgmtWrite, nodeStats, engineEvents, nodeCounters: nodeStats || engineEvents },
    missing,
  };
}

/** With a management API: waits until it reports every node online. */
export async function waitUntilNodesOnline(
  info: Pick<TopologyInfo, 'lbMgmtUrl' | 'mgmtToken'>,
  nodes: readonly string[],
  timeoutMs: number,
): Promise<void> {
  if (info.lbMgmtUrl === undefined) return;
  await new LbManagement(info).waitOnline(nodes, timeoutMs);
}

function isNodeStats(value: NodeStats | undefined): boolean {
  return (
    typeof value === 'object' && value !== null && typeof value.routes === 'object' && value.routes !== null
  );
}

const seconds = (value: number | undefined) => (value === undefined ? 'unknown' : `${value} s`);

/** The run's first lines: what is under test and what the guard can do with it. */
export function describeTopology(info: TopologyInfo): string[] {
  const offered = (Object.keys(info.capabilities) as Capability[])
    .map(
      (name) => `${name} ${info.capabilities[name] ? 'yes' : `no (${info.missing[name] ?? 'not offered'})`}`,
    )
    .join('; ');
  return [
    `balancer under test: ${info.balancer.label} at ${info.lbUrl}` +
      (info.lbMgmtUrl ? `, management API at ${info.lbMgmtUrl}` : ''),
    `  health interval ${seconds(info.balancer.hcIntervalS)}, upstream timeout ${seconds(info.balancer.upstreamTimeoutS)}`,
    `nodes under test: ${info.nodeBuild}: ${info.nodes.join(' ')} (database: ${info.database})`,
    `Fn API: ${info.api}${info.apiUrl ? ` at ${info.apiUrl}` : ''} (${info.apiReason})`,
    `offers: ${offered}`,
  ];
}

/** Waits until a node answers GET /version with 200 (after a start). */
export async function waitUntilServing(node: string, url: string, timeoutMs: number): Promise<void> {
  await waitUntil(
    `${node} to answer /version`,
    async () => {
      try {
        const response = await fetch(`${url}/version`, { signal: AbortSignal.timeout(1000) });
        await response.body?.cancel();
        return response.status === 200;
      } catch {
        return false;
      }
    },
    timeoutMs,
    100,
  );
}
