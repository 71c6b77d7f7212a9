// Vitest globalSetup of the guard's run: takes the run's settings (handed over by fnlb-guard or the
// guard's Vitest config; resolved from the environment here when a configuration that runs the guard
// among other projects did not), clears the last report, chooses the topology and starts only what it
// needs (a throwaway PostgreSQL for the processes topology unless dbUrl names one; nothing of the kind
// for containers, swarm or external, which bring their own database or have one), prints what is
// under test and what it offers, serves the topology's faults to the test workers (topology/control.ts)
// and hands settings and topology to the property files (context.ts). A setup that fails stops what
// it started, writes both reports with the verdict error and the reason (report/setup-failure.ts),
// tells fnlb-guard, and fails with one line naming who failed, where, and at which step.

import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { createScratchDatabase, type ScratchDatabase } from '../../helpers/databases.js';
import { type LocalPostgres, startPostgres } from '../../helpers/postgres.js';
import { distPath } from '../../src/common/package-root.js';
import { announceSetupFailure, writeSetupFailure } from '../report/setup-failure.js';
import { type GuardSettings, resolveSettings } from '../settings/resolve.js';
import { type FaultServer, serveFaults } from '../topology/control.js';
import {
  chooseTopology,
  startTopology,
  type Topology,
  type TopologyInfo,
  unreadSettings,
} from '../topology/index.js';
import { describeTopology } from '../topology/probe.js';
import { SetupError } from '../topology/setup-error.js';
import { beginReports } from './report-files.js';
import './context.js';

const say = (line: string) => console.log(`[guard] ${line}`);

function settingsOf(project: TestProject): GuardSettings {
  const provided = project.getProvidedContext().guardSettings;
  if (provided !== undefined) return provided;
  const { settings, notices } = resolveSettings({ env: process.env });
  for (const notice of notices) say(notice);
  return settings;
}

/** What the processes topology runs is the compiled build: say how to make it rather than fail later. */
function requireBuild(): void {
  const entry = distPath('src/node/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the package first (npm run build)`);
}

interface Database {
  url: string;
  close(): Promise<void>;
}

/** The processes topology's database: a scratch one on dbUrl's server, or on a throwaway server. */
async function processesDatabase(settings: GuardSettings): Promise<Database> {
  const started = Date.now();
  let server: LocalPostgres | undefined;
  if (settings.dbUrl === undefined) {
    server = await startPostgres({ source: settings.postgresBinaries });
    const { version, source } = server.binaries;
    say(`throwaway PostgreSQL ${version} (${source}) on ${server.url} (${Date.now() - started} ms)`);
  }
  let scratch: ScratchDatabase;
  try {
    scratch = await createScratchDatabase(settings.dbUrl ?? (server as LocalPostgres).url, 'topology');
  } catch (error) {
    await server?.close();
    throw error;
  }
  return {
    url: scratch.url,
    close: async () => {
      await scratch.drop().catch(() => {});
      await server?.close();
    },
  };
}

/** The reports folder made ready, or the run's one line saying it cannot be (no report can be written). */
function reportsBegun(settings: GuardSettings): GuardSettings {
  try {
    return beginReports(settings);
  } catch (error) {
    const failed = new SetupError(
      { role: 'settings', address: settings.reports, step: 'preparing the reports folder' },
      error,
    );
    announceSetupFailure(failed.toFailure());
    throw failed;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = new Date().toISOString();
  const settings = reportsBegun(settingsOf(project));
  project.provide('guardSettings', settings);
  const choice = await chooseTopology(settings);
  say(`topology: ${choice.kind} (${choice.reason})`);
  for (const notice of unreadSettings(choice.kind, settings)) say(notice);
  if (settings.scale !== 'full') {
    say(`scale: ${settings.scale} (${settings.origin.scale}): smaller workloads, bounds on shares widened`);
  }

  let database: Database | undefined;
  let topology: Topology | undefined;
  let faults: FaultServer | undefined;
  try {
    if (choice.kind === 'processes') {
      requireBuild();
      database = await processesDatabase(settings);
    }
    topology = await startTopology(choice, settings, database ? { dbUrl: database.url } : {});
    faults = await serveFaults(topology);
  } catch (error) {
    await topology?.close().catch(() => {});
    await database?.close().catch(() => {});
    const failed =
      error instanceof SetupError
        ? error
        : new SetupError({ role: 'topology', address: choice.kind, step: 'starting it' }, error);
    const failure = failed.toFailure();
    try {
      writeSetupFailure(settings, failure, startedAt, process.cwd());
    } catch (written) {
      say(`the reports of the failed setup could not be written: ${(written as Error).message}`);
    }
    announceSetupFailure(failure);
    // Vitest's own account of it (npm run test:guard): the one line, the step's error as its cause.
    throw failed;
  }
  const info: TopologyInfo = { ...topology.info, controlUrl: faults.url };
  for (const line of describeTopology(info)) say(line);
  project.provide('topology', info);
  return async () => {
    await faults.close();
    await topology.close();
    await database?.close();
  };
}
