// How the containers topology configures a node container: the presets, FN_NODE_ENV's placeholders,
// and a bad value named by its variable.
import { describe, expect, it } from 'vitest';
import { nodeEnvironment, nodeTemplate } from '../../guard/topology/node-template.js';

const VALUES = { dbUrl: 'postgres://u:p@postgres:5432/fnguard', port: 8080, nodeId: 'run-node1' };

describe('node templates', () => {
  it('configures fn-node by default: its variables, started together, SCRAM', () => {
    const template = nodeTemplate({});
    expect(nodeEnvironment(template, VALUES)).toEqual({
      DB_URL: VALUES.dbUrl,
      FN_NODE_ID: 'run-node1',
      FN_DRIVER: 'docker',
      PORT: '8080',
    });
    expect(template).toMatchObject({ preset: 'fn-node', start: 'parallel', postgresAuth: 'scram-sha-256' });
  });

  it('configures the Fn server with the fn preset: its variables, one after another, md5', () => {
    const template = nodeTemplate({ FN_NODE_PRESET: 'fn' });
    expect(nodeEnvironment(template, VALUES)).toEqual({
      FN_DB_URL: `${VALUES.dbUrl}?sslmode=disable`,
      FN_PORT: '8080',
      FN_LOG_LEVEL: 'info',
    });
    expect(template).toMatchObject({ start: 'sequential', postgresAuth: 'md5' });
  });

  it('takes FN_NODE_ENV, FN_NODE_START and FN_POSTGRES_AUTH over the preset', () => {
    const template = nodeTemplate({
      FN_NODE_PRESET: 'fn',
      FN_NODE_ENV: 'MY_DB={db_url} MY_PORT={port} NAME={node_id} FIXED=1',
      FN_NODE_START: 'parallel',
      FN_POSTGRES_AUTH: 'trust',
    });
    expect(nodeEnvironment(template, VALUES)).toEqual({
      MY_DB: VALUES.dbUrl,
      MY_PORT: '8080',
      NAME: 'run-node1',
      FIXED: '1',
    });
    expect(template).toMatchObject({ start: 'parallel', postgresAuth: 'trust', customEnv: true });
  });

  it.each([
    [{ FN_NODE_PRESET: 'kubernetes' }, 'FN_NODE_PRESET'],
    [{ FN_NODE_START: 'later' }, 'FN_NODE_START'],
    [{ FN_POSTGRES_AUTH: 'password' }, 'FN_POSTGRES_AUTH'],
    [{ FN_NODE_ENV: 'DB={database}' }, 'FN_NODE_ENV: unknown placeholder {database}'],
    [{ FN_NODE_ENV: 'no-equals-sign' }, 'FN_NODE_ENV: "no-equals-sign" is not KEY=value'],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => nodeTemplate(env)).toThrow(message);
  });
});
