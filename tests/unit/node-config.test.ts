import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/node/config.js';

describe('fn-node configuration', () => {
  it('takes defaults, then environment, then flags', () => {
    const defaults = loadConfig([], {});
    expect(defaults).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      dbUrl: undefined,
      driver: 'auto',
      maxStarts: 4,
    });
    const fromEnv = loadConfig([], {
      PORT: '9000',
      DB_URL: 'postgres://x/y',
      FN_NODE_ID: 'n1',
      FN_MEMORY_MB: '512',
    });
    expect(fromEnv).toMatchObject({ port: 9000, dbUrl: 'postgres://x/y', nodeId: 'n1', memoryMb: 512 });
    const fromFlags = loadConfig(['--port', '9100', '--driver', 'process'], {
      PORT: '9000',
      FN_DRIVER: 'docker',
    });
    expect(fromFlags).toMatchObject({ port: 9100, driver: 'process' });
  });

  it("reads Fn's own names where fn-node's are not set, and the opaque test mode", () => {
    const fnNames = loadConfig([], {
      FN_DB_URL: 'postgres://a/b?sslmode=disable',
      FN_PORT: '9001',
      FN_LOG_LEVEL: 'debug',
    });
    expect(fnNames).toMatchObject({
      dbUrl: 'postgres://a/b?sslmode=disable',
      port: 9001,
      logLevel: 'debug',
      opaque: false,
    });
    expect(
      loadConfig([], {
        DB_URL: 'sqlite:///x.db',
        FN_DB_URL: 'postgres://a/b',
        PORT: '9002',
        FN_PORT: '9001',
      }),
    ).toMatchObject({
      dbUrl: 'sqlite:///x.db',
      port: 9002,
    });
    expect(loadConfig([], { FN_TEST_OPAQUE: '1' })).toMatchObject({ opaque: true });
    expect(() => loadConfig([], { FN_PORT: 'x' })).toThrow(/FN_PORT: expected a whole number/);
    expect(() => loadConfig([], { FN_TEST_OPAQUE: 'yes' })).toThrow(/FN_TEST_OPAQUE: expected 0 or 1/);
    expect(loadConfig([], { FN_TEST_LAUNCH: 'naive' })).toMatchObject({ launch: 'naive' });
    expect(() => loadConfig([], { FN_TEST_LAUNCH: 'eager' })).toThrow(
      /FN_TEST_LAUNCH: expected adaptive or naive/,
    );
  });

  it("reads the http-stream settings: the start bound and the docker driver's socket folders", () => {
    expect(loadConfig([], {})).toMatchObject({
      hotStartTimeoutMs: 30_000,
      iofsPath: undefined,
      iofsDockerPath: undefined,
    });
    expect(
      loadConfig([], {
        FN_HOT_START_TIMEOUT_MSECS: '5000',
        FN_IOFS_PATH: '/iofs',
        FN_IOFS_DOCKER_PATH: '/var/lib/fn/iofs',
      }),
    ).toMatchObject({ hotStartTimeoutMs: 5000, iofsPath: '/iofs', iofsDockerPath: '/var/lib/fn/iofs' });
    expect(() => loadConfig([], { FN_IOFS_PATH: 'iofs' })).toThrow(/FN_IOFS_PATH: expected an absolute path/);
    expect(() => loadConfig([], { FN_IOFS_DOCKER_PATH: './x' })).toThrow(
      /FN_IOFS_DOCKER_PATH: expected an absolute/,
    );
    expect(() => loadConfig([], { FN_HOT_START_TIMEOUT_MSECS: '10' })).toThrow(
      /FN_HOT_START_TIMEOUT_MSECS: 10 is outside 100\.\.600000/,
    );
  });

  it('defaults the node id to hostname:port so nodes on one machine differ', () => {
    const config = loadConfig(['--port', '8123'], {});
    expect(config !== 'help' && config.nodeId.endsWith(':8123')).toBe(true);
  });

  it.each([
    [['--port', '0'], {}, /--port: 0 is outside 1\.\.65535/],
    [[], { PORT: '80a' }, /PORT: expected a whole number/],
    [[], { FN_MAX_STARTS: '-1' }, /FN_MAX_STARTS/],
    [[], { FN_DRIVER: 'k8s' }, /FN_DRIVER: expected auto, docker or process/],
    [['--nope'], {}, /--nope/],
  ])('rejects %j %j naming the flag or variable', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });
});
