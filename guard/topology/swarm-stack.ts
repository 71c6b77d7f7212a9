// The system as a Docker Swarm stack (deploy/swarm/stack.yml) on the local engine, for tests: Swarm
// mode turned on when the engine is not in a swarm (and off again afterwards: the engine is left as
// found, docker_gwbridge included), the stack deployed under a unique name on the locally built
// images, and removed with everything it made (services, the network, the containers its nodes
// started). Every engine call is the docker CLI with a timeout.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { tryWaitUntil } from '../../helpers/wait.js';
import { PACKAGE } from '../../src/common/package-root.js';

const CLI_TIMEOUT_MS = 120_000;
const REMOVE_TIMEOUT_MS = 60_000;

export function docker(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      args,
      { timeout: CLI_TIMEOUT_MS, env, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`docker ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}

export interface StackOptions {
  /** The engine's socket (the dockerHost setting); default: the docker CLI's own choice. */
  engineSocket?: string;
  replicas: number;
  dnsIntervalS: number;
  postgresImage: string;
  /** Publish every fn-node task on a host port of its own (deploy/swarm/publish-nodes.yml). */
  publishNodes?: boolean;
  /** The stack's variables beyond those above (FN_NODE_IMAGE, FNLB_MGMT_TOKEN, ...: see stack.yml). */
  variables?: Record<string, string>;
}

/** A running fn-node task: the address fnlb names it by (overlay IP) and where this host reaches it. */
export interface NodeEndpoint {
  address: string;
  url: string;
  /** Its container's id on the engine. */
  container: string;
  /**
   * Its health check (stack.yml) passed: only then does Swarm's DNS list the task under tasks.fn-node
   * (a task that has not passed yet, or fails, is left out).
   */
  healthy: boolean;
}

const NODE_PORT = 8080;
const GATEWAY_BRIDGE = 'docker_gwbridge';

export class SwarmStack {
  private constructor(
    /** The docker CLI's environment: the caller's, on the engine the stack runs on. */
    private readonly env: NodeJS.ProcessEnv,
    readonly name: string,
    /** fnlb's port on this host. */
    readonly port: number,
    private readonly leaveSwarm: boolean,
    /** docker_gwbridge, the bridge `swarm init` makes and `swarm leave` keeps, was not there before. */
    private readonly removeGatewayBridge: boolean,
  ) {}

  get lbUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async deploy(options: StackOptions): Promise<SwarmStack> {
    const env = options.engineSocket
      ? { ...process.env, DOCKER_HOST: `unix://${options.engineSocket}` }
      : process.env;
    const state = await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'], env);
    const leaveSwarm = state !== 'active';
    const gatewayBridge =
      (await docker(['network', 'ls', '-q', '--filter', `name=^${GATEWAY_BRIDGE}$`], env)) !== '';
    if (leaveSwarm) await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1'], env);
    const stack = new SwarmStack(
      env,
      `fng${randomBytes(3).toString('hex')}`,
      await freePort(),
      leaveSwarm,
      leaveSwarm && !gatewayBridge,
    );
    try {
      await docker(
        [
          'stack',
          'deploy',
          '--detach=true',
          '--resolve-image',
          'never',
          '-c',
          join(PACKAGE.root, 'deploy/swarm/stack.yml'),
          ...(options.publishNodes ? ['-c', join(PACKAGE.root, 'deploy/swarm/publish-nodes.yml')] : []),
          stack.name,
        ],
        {
          ...env,
          FN_NODE_REPLICAS: String(options.replicas),
          FN_DNS_INTERVAL: String(options.dnsIntervalS),
          FN_POSTGRES_IMAGE: options.postgresImage,
          FNLB_PORT: String(stack.port),
          ...options.variables,
        },
      );
    } catch (error) {
      await stack.remove();
      throw error;
    }
    return stack;
  }

  service(name: string): string {
    return `${this.name}_${name}`;
  }

  scale(service: string, replicas: number): Promise<string> {
    return docker(['service', 'scale', '--detach', `${this.service(service)}=${replicas}`], this.env);
  }

  /** Ids of the running containers of one of the stack's services. */
  async containers(service: string): Promise<string[]> {
    const out = await docker(
      ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${this.service(service)}`],
      this.env,
    );
    return out === '' ? [] : out.split('\n');
  }

  /**
   * Every running fn-node task with a published port (publishNodes): its address on the stack's
   * network, as tasks.fn-node resolves it, and its host port on 127.0.0.1.
   */
  async nodeEndpoints(): Promise<NodeEndpoint[]> {
    const network = `${this.name}_fn`;
    const endpoints: NodeEndpoint[] = [];
    for (const id of await this.containers('fn-node')) {
      const line = await docker(
        [
          'inspect',
          '--format',
          `{{(index .NetworkSettings.Networks "${network}").IPAddress}} {{(index (index .NetworkSettings.Ports "${NODE_PORT}/tcp") 0).HostPort}} {{if .State.Health}}{{.State.Health.Status}}{{else}}healthy{{end}}`,
          id,
        ],
        this.env,
      ).catch(() => '');
      const [ip, hostPort, health] = line.split(' ');
      if (ip && hostPort)
        endpoints.push({
          address: `${ip}:${NODE_PORT}`,
          url: `http://127.0.0.1:${hostPort}`,
          container: id,
          healthy: health === 'healthy',
        });
    }
    return endpoints;
  }

  /** When a container's health check first passed (ms since the epoch), from the engine's health log. */
  async healthySince(container: string): Promise<number | undefined> {
    const log = await docker(
      ['inspect', '--format', '{{json .State.Health.Log}}', container],
      this.env,
    ).catch(() => '');
    try {
      const entries = JSON.parse(log) as Array<{ ExitCode: number; End: string }> | null;
      const first = (entries ?? []).find((entry) => entry.ExitCode === 0);
      return first ? Date.parse(first.End) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * For a test process exiting without remove() (Ctrl-C, a step's timeout): only synchronous work runs
   * then, so the stack goes and a swarm this joined is left at once, without waiting for either.
   */
  removeNow(): void {
    spawnSync('docker', ['stack', 'rm', this.name], { stdio: 'ignore', timeout: 30_000, env: this.env });
    if (this.leaveSwarm)
      spawnSync('docker', ['swarm', 'leave', '--force'], { stdio: 'ignore', timeout: 60_000, env: this.env });
  }

  /** Removes the stack, waits until its containers and network are gone, then what its nodes left. */
  async remove(): Promise<void> {
    await docker(['stack', 'rm', this.name], this.env).catch(() => '');
    const left = async () =>
      (await docker(['ps', '-aq', '--filter', `label=com.docker.stack.namespace=${this.name}`], this.env)) +
      (await docker(
        ['network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${this.name}`],
        this.env,
      ));
    // What is still there after the wait is reported below, once the nodes' leftovers are gone too;
    // the swarm is left even when the engine fails a call on the way.
    try {
      await tryWaitUntil(
        `stack ${this.name} to be gone`,
        async () => (await left()) === '',
        REMOVE_TIMEOUT_MS,
        500,
      );
      // Function containers the nodes started are named by their node ids, <stack>_fn-node-<slot>.
      const functions = (
        await docker(
          ['ps', '-aq', '--filter', 'label=fnlb-guard=1', '--filter', `label=fnlb-guard.node`],
          this.env,
        )
      )
        .split('\n')
        .filter(Boolean);
      for (const id of functions) {
        const node = await docker(
          ['inspect', '--format', '{{index .Config.Labels "fnlb-guard.node"}}', id],
          this.env,
        ).catch(() => '');
        if (node.startsWith(`${this.name}_`)) await docker(['rm', '-f', id], this.env).catch(() => '');
      }
    } finally {
      if (this.leaveSwarm) await docker(['swarm', 'leave', '--force'], this.env).catch(() => '');
      if (this.removeGatewayBridge) await docker(['network', 'rm', GATEWAY_BRIDGE], this.env).catch(() => '');
    }
    const remaining = await left();
    if (remaining !== '') throw new Error(`stack ${this.name}: containers or networks left: ${remaining}`);
  }
}
