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
} as const satisfies Record<string, Preset>;

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

/** The preset, with what the settings override. */
export function nodeTemplate(settings: {
  nodePreset: PresetName;
  nodeEnv: string | undefined;
  nodeStart: NodeStart | undefined;
  postgresAuth: PostgresAuth | undefined;
}): NodeTemplate {
  const defaults: Preset = NODE_PRESETS[settings.nodePreset];
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
