// The offline Postgres base image (docker/offline/postgres-entrypoint.sh) creates its cluster for the
// auth method the containers topology asks for: SCRAM by default, md5 with md5-hashed passwords for
// node builds whose driver predates SCRAM (the Fn server's), or trust. Read back from the server itself:
// its pg_hba rules and how the user's password is stored. Skipped, saying so, without an engine or
// without the image (docker/offline/bootstrap.sh builds it).
import Docker from 'dockerode';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { imagePresent } from '../../guard/topology/images.js';
import { loadTestcontainers } from '../../guard/topology/testcontainers.js';
import { dockerAnswers, dockerSocket } from '../../src/common/docker.js';

const IMAGE = 'fnguard/base-postgres:local';
const socketPath = dockerSocket(process.env.DOCKER_HOST);
const engine = await dockerAnswers(socketPath, 2000);
const present = engine && (await imagePresent(new Docker({ socketPath }), IMAGE));
const unavailable = !engine
  ? `no Docker engine answers on ${socketPath}`
  : !present
    ? `${IMAGE} is not built (docker/offline/bootstrap.sh)`
    : undefined;

describe.skipIf(unavailable !== undefined)(
  `the offline Postgres image${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it.each(['scram-sha-256', 'md5', 'trust'] as const)(
      'creates its cluster for POSTGRES_HOST_AUTH_METHOD=%s',
      async (method) => {
        const { GenericContainer, Wait } = await loadTestcontainers();
        await using container = await new GenericContainer(IMAGE)
          .withLabels({ 'fnlb-guard': '1' })
          .withEnvironment({
            POSTGRES_USER: 'fnguard',
            POSTGRES_PASSWORD: 'secret',
            POSTGRES_DB: 'fnguard',
            POSTGRES_HOST_AUTH_METHOD: method,
          })
          .withExposedPorts(5432)
          .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/))
          .withStartupTimeout(60_000)
          .start();
        const client = new pg.Client({
          host: '127.0.0.1',
          port: container.getMappedPort(5432),
          user: 'fnguard',
          password: 'secret',
          database: 'fnguard',
          connectionTimeoutMillis: 5000,
        });
        await client.connect();
        try {
          const rules = await client.query<{ auth_method: string }>(
            "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all'",
          );
          expect(rules.rows.map((row) => row.auth_method)).toEqual([method]);
          const stored = await client.query<{ rolpassword: string | null }>(
            'SELECT rolpassword FROM pg_authid WHERE rolname = current_user',
          );
          const password = stored.rows[0]?.rolpassword ?? '';
          if (method === 'md5') expect(password).toMatch(/^md5[0-9a-f]{32}$/);
          if (method === 'scram-sha-256') expect(password).toMatch(/^SCRAM-SHA-256\$/);
        } finally {
          await client.end();
        }
      },
      90_000,
    );
  },
);
