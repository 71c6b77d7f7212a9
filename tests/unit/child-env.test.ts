// What a program of this project started by the helpers inherits (helpers/child-env.ts): the variables
// any program needs, never the run's own or Node's options, and what the caller gives over them.
import { describe, expect, it } from 'vitest';
import { childEnvironment } from '../../helpers/child-env.js';

/** What any program needs of its caller's environment. */
const NEEDED = {
  PATH: '/usr/bin:/bin',
  HOME: '/root',
  TMPDIR: '/scratch',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_CTYPE: 'C.UTF-8',
  TZ: 'UTC',
  DOCKER_HOST: 'unix:///run/docker.sock',
};

/** A test run's environment: the run's own variables, Node's options, a database client's defaults. */
const CALLER = {
  ...NEEDED,
  FN_TOPOLOGY: 'processes',
  FN_MAX_STARTS: '64',
  FN_TEST_LAUNCH: 'naive',
  FNLB_CMD: 'haproxy',
  FNLB_MGMT_TOKEN: 'secret',
  FNG_LOGS: '/logs',
  NODE_OPTIONS: '--inspect',
  NODE_ENV: 'test',
  PGPASSWORD: 'pw',
  VITEST_WORKER_ID: '1',
  LC: 'not a locale variable',
};

describe('childEnvironment', () => {
  it("keeps only what any program needs of the caller's environment", () => {
    expect(childEnvironment({}, CALLER)).toEqual(NEEDED);
  });

  it('adds what the caller gives, over what is inherited', () => {
    expect(childEnvironment({ FN_MAX_STARTS: '8', TZ: 'Europe/Paris' }, { PATH: '/bin', TZ: 'UTC' })).toEqual(
      {
        PATH: '/bin',
        TZ: 'Europe/Paris',
        FN_MAX_STARTS: '8',
      },
    );
  });

  it('reads the test process environment by default', () => {
    expect(childEnvironment().PATH).toBe(process.env.PATH);
  });
});
