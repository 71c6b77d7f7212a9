// The system deployed for real as a Docker Swarm stack (deploy/swarm/stack.yml) on the local engine:
// fnlb finds the fn-node replicas through Swarm's own DNS (tasks.fn-node), serves a route from one node
// with one hot container, lets this host reach every replica at a port of its own (publish-nodes.yml),
// sees a 6th replica after `docker service scale`, and takes the task Swarm starts in place of a killed
// one; removing the stack leaves no service, network or container.
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildProjectImages, imagePresent } from '../../guard/topology/images.js';
import { SwarmStack } from '../../guard/topology/swarm-stack.js';
import { waitForState } from '../../helpers/wait.js';
import { dockerAnswers, dockerSocket } from '../../src/common/docker.js';
import { FnClient } from '../../src/common/fn-client.js';
import type { LbNodesResponse } from '../../src/common/lb-wire.js';

const DNS_INTERVAL_S = 1;
const LOCAL_POSTGRES = 'fnguard/base-postgres:local';
const socketPath = dockerSocket(process.env.DOCKER_HOST);
const docker = new Docker({ socketPath });

async function unavailable(): Promise<string | undefined> {
  // Turning swarm mode on and off again on the engine cuts the embedded DNS of containers already
  // running on it: the containers topology's nodes then lose the name of their Postgres.
  const kind = inject('topology').kind;
  if (kind === 'containers') {
    return "the run's containers topology lives on this engine, and swarm mode coming and going would cut its DNS (runs with FN_TOPOLOGY=processes)";
  }
  if (kind === 'swarm') return "the run's swarm topology deploys this stack already, and the guard judges it";
  if (!(await dockerAnswers(socketPath, 2000))) return `no Docker engine answers on ${socketPath}`;
  try {
    await buildProjectImages();
  } catch (error) {
    return `the project images could not be built (${(error as Error).message.split('\n')[0]}): run docker/offline/bootstrap.sh`;
  }
  return undefined;
}
const skipReason = await unavailable();
if (skipReason) console.warn(`[swarm-stack] skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('the Swarm stack', () => {
  let stack: SwarmStack;
  let lb: FnClient;

  const nodes = async (): Promise<LbNodesResponse> => {
    const answer = await lb.send('GET', '/1/lb/nodes');
    return answer.status === 200 ? (JSON.parse(answer.body) as LbNodesResponse) : { nodes: {} };
  };
  const onlineIn = (view: LbNodesResponse) =>
    Object.entries(view.nodes)
      .filter(([, state]) => state === 'online')
      .map(([address]) => address);
  const online = async () => onlineIn(await nodes());
  /** The ms until the balancer lists `wanted` of its online nodes. */
  const waitOnline = async (what: string, wanted: (online: string[]) => boolean, timeoutMs: number) => {
    const read = () => nodes().catch(() => ({ nodes: {} }));
    const { ms } = await waitForState(what, read, (view) => wanted(onlineIn(view)), timeoutMs, 250);
    return Math.round(ms);
  };

  beforeAll(async () => {
    const postgresImage = (await imagePresent(docker, LOCAL_POSTGRES)) ? LOCAL_POSTGRES : 'postgres:16';
    stack = await SwarmStack.deploy({
      replicas: 5,
      dnsIntervalS: DNS_INTERVAL_S,
      postgresImage,
      publishNodes: true,
    });
    lb = new FnClient(stack.lbUrl, { timeoutMs: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await stack?.remove();
  }, 120_000);

  it('fnlb finds the five replicas through Swarm DNS', async () => {
    const ms = await waitOnline('5 nodes online', (now) => now.length === 5, 90_000);
    console.log(`[swarm-stack] 5 nodes online ${ms} ms after the stack's deployment`);
    const view = await nodes();
    expect(Object.values(view.sources ?? {})).toEqual(['dns', 'dns', 'dns', 'dns', 'dns']);
  }, 120_000);

  it('lets this host reach every replica at its own port, under the address fnlb names it by', async () => {
    const endpoints = await stack.nodeEndpoints();
    const named = (await online()).sort();
    expect(endpoints.map((endpoint) => endpoint.address).sort()).toEqual(named);
    expect(new Set(endpoints.map((endpoint) => endpoint.url)).size).toBe(5);
    for (const endpoint of endpoints) {
      expect((await new FnClient(endpoint.url, { timeoutMs: 5_000 }).send('GET', '/version')).status).toBe(
        200,
      );
    }
  }, 60_000);

  it('serves a route from one node with one hot container', async () => {
    // Each node connects to Postgres on its own schedule after the stack starts: retry the first write.
    await expect
      .poll(async () => (await lb.send('POST', '/v1/apps', { app: { name: 'swarmapp' } })).status, {
        timeout: 20_000,
        interval: 500,
        message: 'the first write through the stack accepted within 20 s',
      })
      .toBe(200);
    await lb.createRoute('swarmapp', { path: '/s', image: 'localhost/fnlb-guard/sleep', format: 'http' });
    const answers = [];
    for (let call = 0; call < 20; call++) answers.push(await lb.send('GET', '/r/swarmapp/s?ms=1'));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((answer) => answer.headers['fn-node'])).size).toBe(1);
    expect(new Set(answers.map((answer) => JSON.parse(answer.body).container)).size).toBe(1);
  }, 60_000);

  it('sees a 6th replica after docker service scale', async () => {
    await stack.scale('fn-node', 6);
    const ms = await waitOnline('6 nodes online', (now) => now.length === 6, 60_000);
    console.log(`[swarm-stack] the 6th node online ${ms} ms after the scale command`);
  }, 90_000);

  it('takes the task Swarm starts in place of a killed one', async () => {
    const before = new Set(await online());
    const [victim] = await stack.containers('fn-node');
    expect(victim).toBeDefined();
    await docker.getContainer(victim as string).kill();
    const ms = await waitOnline(
      'the replacement of a killed task online',
      (now) => now.length === 6 && now.some((address) => !before.has(address)),
      90_000,
    );
    console.log(`[swarm-stack] the replacement task online ${ms} ms after the kill`);
    expect((await lb.send('GET', '/r/swarmapp/s?ms=1')).status).toBe(200);
  }, 120_000);
});
