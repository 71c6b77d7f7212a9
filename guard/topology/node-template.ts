// How a topology configures a node, so any node image runs there without a wrapper: an environment
// template (`KEY=value` pairs separated by spaces) with the placeholders {db_url} (the topology's
// database), {port} (the port the node must serve on), {node_id} (a run-unique name) and {iofs} (a
// directory of the node's own at the same path on the node and on the engine, for the sockets of
// http-stream functions), and how the nodes start. Two presets give the defaults:
//   fn-node  this project's node: DB_URL, FN_NODE_ID, the docker driver, its iofs directory; nodes
//            start together (each waits for its database and applies migrations under a lock)
//   fn       the Fn server (fnproject/fn): FN_DB_URL with sslmode=disable, FN_PORT, its iofs directory
//            (Fn 0.3.6xx and later run every function in http-stream; 0.3.5xx ignores it);
//            nodes start one after another once Postgres is ready (its migrations are not safe when
//            several servers apply them at once, and it exits when its database is not there yet),
//            and Postgres takes md5 passwords (its driver predates SCRAM)
//   fn-cluster  Fn's own cluster shape (containers.ts): an API node, the nodes as pure runners (gRPC
//            on 9190, Fn's image) and an LB node of the same image as the balancer under test; with
//            this project's images, fn-node as the API node and the runners and fnlb as the balancer
// The settings nodeEnv, nodeStart and postgresAuth override a preset's choice (settings/table.ts).

export const NODE_PLACEHOLDERS = ['db_url', 'port', 'node_id', 'iofs'] as const;
export const NODE_STARTS = ['parallel', 'sequential'] as const;
export const POSTGRES_AUTHS = ['scram-sha-256', 'md5', 'trust'] as const;

export type NodeStart = (typeof NODE_STARTS)[number];
export type PostgresAuth = (typeof POSTGRES_AUTHS)[number];

interface Preset {
  env: string;
  start: NodeStart;
  postgresAuth: PostgresAuth;
}

export const NODE_PRESETS = {
  'fn-node': {
    env: 'DB_URL={db_url} FN_NODE_ID={node_id} FN_DRIVER=docker PORT={port} FN_IOFS_PATH={iofs} FN_IOFS_DOCKER_PATH={iofs}',
    start: 'parallel',
    postgresAuth: 'scram-sha-256',
  },
  fn: {
    env: 'FN_DB_URL={db_url}?sslmode=disable FN_PORT={port} FN_LOG_LEVEL=info FN_IOFS_PATH={iofs} FN_IOFS_DOCKER_PATH={iofs}',
    start: 'sequential',
    postgresAuth: 'md5',
  },
  // The runners: they keep no database, so they start together once the API node serves. Each
  // removes the function containers of its label tag another instance started: one tag per runner.
  'fn-cluster': {
    env: 'FN_NODE_TYPE=pure-runner FN_GRPC_PORT=9190 FN_PORT={port} FN_LOG_LEVEL=info FN_IOFS_PATH={iofs} FN_IOFS_DOCKER_PATH={iofs} FN_CONTAINER_LABEL_TAG={node_id}',
    start: 'parallel',
    postgresAuth: 'md5',
  },
} as const satisfies Record<string, Preset>;

/** The port Fn's pure runners take calls on (gRPC), as its LB node names them. */
export const RUNNER_GRPC_PORT = 9190;

/** The other roles of the fn-cluster preset: the API node, and the LB node of Fn's image. */
export const CLUSTER_ROLES = {
  fnApi: 'FN_NODE_TYPE=api FN_DB_URL={db_url}?sslmode=disable FN_PORT={port} FN_LOG_LEVEL=info',
  projectApi: 'DB_URL={db_url} FN_NODE_ID={node_id} FN_DRIVER=docker PORT={port}',
  /** Completed by the topology with FN_RUNNER_API_URL, FN_RUNNER_ADDRESSES and FN_PLACER. */
  fnLb: 'FN_NODE_TYPE=lb FN_PORT={port} FN_LOG_LEVEL=info',
} as const;

export const LB_PLACERS = ['ch', 'naive'] as const;
export type LbPlacer = (typeof LB_PLACERS)[number];

export type PresetName = keyof typeof NODE_PRESETS;
export const NODE_PRESET_NAMES = Object.keys(NODE_PRESETS) as PresetName[];

export interface NodeTemplate extends Preset {
  preset: PresetName;
  /** True when the nodeEnv setting replaced the preset's environment. */
  customEnv: boolean;
}

export interface NodePlaceholders {
  dbUrl: string;
  port: number;
  nodeId: string;
  /** Where the topology gives the node a directory visible to the engine too; '' where it has none. */
  iofs: string;
}

/**
 * The preset, with what the settings override. With this project's node image, the fn-cluster
 * preset's runners are fn-node nodes, configured as the fn-node preset configures them.
 */
export function nodeTemplate(
  settings: {
    nodePreset: PresetName;
    nodeEnv: string | undefined;
    nodeStart: NodeStart | undefined;
    postgresAuth: PostgresAuth | undefined;
  },
  projectNode = false,
): NodeTemplate {
  const own = settings.nodePreset === 'fn-cluster' && projectNode;
  const defaults: Preset = NODE_PRESETS[own ? 'fn-node' : settings.nodePreset];
  return {
    preset: settings.nodePreset,
    env: settings.nodeEnv ?? defaults.env,
    customEnv: settings.nodeEnv !== undefined,
    start: settings.nodeStart ?? defaults.start,
    postgresAuth: settings.postgresAuth ?? defaults.postgresAuth,
  };
}

/** The node's environment: an environment template's pairs with their placeholders filled in. */
export function nodeEnvironment(template: string, values: NodePlaceholders): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of template.split(/\s+/).filter(Boolean)) {
    const equals = pair.indexOf('=');
    env[pair.slice(0, equals)] = pair.slice(equals + 1).replace(/\{([a-z_]+)\}/g, (_whole, name: string) => {
      switch (name) {
        case 'db_url':
          return values.dbUrl;
        case 'port':
          return String(values.port);
        case 'iofs':
          return values.iofs;
        default:
          return values.nodeId;
      }
    });
  }
  return env;
}
