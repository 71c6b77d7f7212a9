// How the containers topology configures a node container, so any node image runs there without a
// wrapper: an environment template (FN_NODE_ENV, `KEY=value` pairs separated by spaces) with the
// placeholders {db_url} (the topology's Postgres), {port} (the port the node must serve on) and
// {node_id} (a run-unique name), and how the nodes start. Two presets give the defaults:
//   fn-node  this project's node: DB_URL, FN_NODE_ID, the docker driver; nodes start together (each
//            waits for its database and applies migrations under a lock)
//   fn       the Fn server (fnproject/fn, v1 routes API): FN_DB_URL with sslmode=disable, FN_PORT;
//            nodes start one after another once Postgres is ready (its migrations are not safe when
//            several servers apply them at once, and it exits when its database is not there yet),
//            and Postgres takes md5 passwords (its driver predates SCRAM)
// FN_NODE_START (parallel | sequential) and FN_POSTGRES_AUTH (scram-sha-256 | md5 | trust) override a
// preset's choice. A bad value is an error naming its variable.

export type NodeStart = 'parallel' | 'sequential';
export type PostgresAuth = 'scram-sha-256' | 'md5' | 'trust';

interface Preset {
  env: string;
  start: NodeStart;
  postgresAuth: PostgresAuth;
}

export const NODE_PRESETS = {
  'fn-node': {
    env: 'DB_URL={db_url} FN_NODE_ID={node_id} FN_DRIVER=docker PORT={port}',
    start: 'parallel',
    postgresAuth: 'scram-sha-256',
  },
  fn: {
    env: 'FN_DB_URL={db_url}?sslmode=disable FN_PORT={port} FN_LOG_LEVEL=info',
    start: 'sequential',
    postgresAuth: 'md5',
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof NODE_PRESETS;

export interface NodeTemplate extends Preset {
  preset: PresetName;
  /** True when FN_NODE_ENV replaced the preset's environment. */
  customEnv: boolean;
}

export interface NodePlaceholders {
  dbUrl: string;
  port: number;
  nodeId: string;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`${name}=${JSON.stringify(value)}: expected ${allowed.join(', ')}`);
  return value as T;
}

export function nodeTemplate(env: NodeJS.ProcessEnv): NodeTemplate {
  const preset = oneOf(
    'FN_NODE_PRESET',
    env.FN_NODE_PRESET,
    Object.keys(NODE_PRESETS) as PresetName[],
    'fn-node',
  );
  const defaults: Preset = NODE_PRESETS[preset];
  const template: NodeTemplate = {
    preset,
    env: env.FN_NODE_ENV || defaults.env,
    customEnv: Boolean(env.FN_NODE_ENV),
    start: oneOf('FN_NODE_START', env.FN_NODE_START, ['parallel', 'sequential'], defaults.start),
    postgresAuth: oneOf(
      'FN_POSTGRES_AUTH',
      env.FN_POSTGRES_AUTH,
      ['scram-sha-256', 'md5', 'trust'],
      defaults.postgresAuth,
    ),
  };
  // Fail at start, naming the variable, rather than on the first node.
  nodeEnvironment(template, { dbUrl: 'postgres://u:p@h:5432/d', port: 8080, nodeId: 'check' });
  return template;
}

/** The node container's environment: the template's pairs with their placeholders filled in. */
export function nodeEnvironment(template: NodeTemplate, values: NodePlaceholders): Record<string, string> {
  const source = template.customEnv ? 'FN_NODE_ENV' : `the ${template.preset} preset`;
  const env: Record<string, string> = {};
  for (const pair of template.env.split(/\s+/).filter(Boolean)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`${source}: ${JSON.stringify(pair)} is not KEY=value`);
    env[pair.slice(0, equals)] = pair.slice(equals + 1).replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
      switch (name) {
        case 'db_url':
          return values.dbUrl;
        case 'port':
          return String(values.port);
        case 'node_id':
          return values.nodeId;
        default:
          throw new Error(`${source}: unknown placeholder ${whole}; known: {db_url} {port} {node_id}`);
      }
    });
  }
  return env;
}
