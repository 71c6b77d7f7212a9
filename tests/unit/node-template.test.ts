// How a topology configures a node: the presets, the settings that override them, and the
// environment template's placeholders filled in.
import { describe, expect, it } from 'vitest';
import { nodeEnvironment, nodeTemplate } from '../../guard/topology/node-template.js';

const VALUES = {
  dbUrl: 'postgres://u:p@postgres:5432/fnguard',
  port: 8080,
  nodeId: 'run-node1',
  iofs: '/tmp/fnguard-iofs-run/run-node1',
};
const UNSET = { nodeEnv: undefined, nodeStart: undefined, postgresAuth: undefined } as const;

describe('node templates', () => {
  it('configures fn-node by default: its variables, started together, SCRAM', () => {
    const template = nodeTemplate({ nodePreset: 'fn-node', ...UNSET });
    expect(nodeEnvironment(template.env, VALUES)).toEqual({
      DB_URL: VALUES.dbUrl,
      FN_NODE_ID: 'run-node1',
      FN_DRIVER: 'docker',
      PORT: '8080',
      FN_IOFS_PATH: VALUES.iofs,
      FN_IOFS_DOCKER_PATH: VALUES.iofs,
    });
    expect(template).toMatchObject({ preset: 'fn-node', start: 'parallel', postgresAuth: 'scram-sha-256' });
  });

  it('configures the Fn server with the fn preset: its variables, one after another, md5', () => {
    const template = nodeTemplate({ nodePreset: 'fn', ...UNSET });
    expect(nodeEnvironment(template.env, VALUES)).toEqual({
      FN_DB_URL: `${VALUES.dbUrl}?sslmode=disable`,
      FN_PORT: '8080',
      FN_LOG_LEVEL: 'info',
      FN_IOFS_PATH: VALUES.iofs,
      FN_IOFS_DOCKER_PATH: VALUES.iofs,
    });
    expect(template).toMatchObject({ start: 'sequential', postgresAuth: 'md5', customEnv: false });
  });

  it('takes nodeEnv, nodeStart and postgresAuth over the preset', () => {
    const template = nodeTemplate({
      nodePreset: 'fn',
      nodeEnv: 'MY_DB={db_url} MY_PORT={port} NAME={node_id} SOCKETS={iofs} FIXED=1',
      nodeStart: 'parallel',
      postgresAuth: 'trust',
    });
    expect(nodeEnvironment(template.env, VALUES)).toEqual({
      MY_DB: VALUES.dbUrl,
      MY_PORT: '8080',
      NAME: 'run-node1',
      SOCKETS: VALUES.iofs,
      FIXED: '1',
    });
    expect(template).toMatchObject({ start: 'parallel', postgresAuth: 'trust', customEnv: true });
  });
  it("configures Fn's cluster shape: pure runners with a label tag each, or fn-node with this project's image", () => {
    const fn = nodeTemplate({ nodePreset: 'fn-cluster', ...UNSET });
    expect(nodeEnvironment(fn.env, VALUES)).toEqual({
      FN_NODE_TYPE: 'pure-runner',
      FN_GRPC_PORT: '9190',
      FN_PORT: '8080',
      FN_LOG_LEVEL: 'info',
      FN_IOFS_PATH: VALUES.iofs,
      FN_IOFS_DOCKER_PATH: VALUES.iofs,
      FN_CONTAINER_LABEL_TAG: 'run-node1',
    });
    expect(fn).toMatchObject({ preset: 'fn-cluster', start: 'parallel', postgresAuth: 'md5' });
    const own = nodeTemplate({ nodePreset: 'fn-cluster', ...UNSET }, true);
    expect(own.env).toBe(nodeTemplate({ nodePreset: 'fn-node', ...UNSET }).env);
    expect(own).toMatchObject({ preset: 'fn-cluster', postgresAuth: 'scram-sha-256' });
  });
});
