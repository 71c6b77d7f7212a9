// How a guard file judges its property: guardProperty(id) opens the file's app on the run's topology,
// and each test it declares gets the suite file, the topology's faults, the run's bounds and a judge.
// A test whose needs the topology does not meet is skipped with the reason (Vitest's skip note); a
// test judges by checks (checks.ts), each compared with a baseline run's too when the baseline
// setting names one (baseline.ts), that go into the test's metadata for the reports, and fails naming
// the component its property implicates with each measured value beside its bound. A measure that is
// only a lower bound fails a maximum it already exceeds; where it decides nothing, the test is
// skipped with what was measured, never passed. After the file,
// the topology is restored (nodes a fault took down are started again, added ones discarded) and the
// balancer given time to take them back.
import { afterAll, beforeAll, expect, inject, it, type TestContext } from 'vitest';
import { type Component, PROPERTIES, type Property, type PropertyId } from '../catalogue.js';
import { settleAfterFaults } from '../measure/settle.js';
import type { Figures } from '../report/figures.js';
import { guardSettings } from '../run/context.js';
import type { Bounds, GuardSettings } from '../settings/resolve.js';
import { FaultClient } from '../topology/control.js';
import { currentTopology } from '../topology/current.js';
import type { Capability, TopologyInfo } from '../topology/types.js';
import { baselineChecks, readBaseline } from './baseline.js';
import { type Check, checkReport, describeCheck, failedChecks, undecided } from './checks.js';
import { SuiteFile } from './suite-file.js';
import { WORKLOADS, type Workload } from './workload.js';

/** What a guard test leaves in its Vitest task meta, for the reporters. */
export interface GuardMeta {
  property: PropertyId;
  title: string;
  /** The property's component, or the test's own where it judges another (GuardTestOptions). */
  implicates: Component;
  checks: Check[];
  context: string[];
  /** Why the test could not judge its property here. */
  skipped?: string;
  /** What it measured for a person to look at (the HTML report's timeline and distributions). */
  figures?: Figures;
}

declare module 'vitest' {
  interface TaskMeta {
    guard?: GuardMeta;
  }
}

export interface GuardContext {
  readonly suite: SuiteFile;
  readonly info: TopologyInfo;
  readonly property: Property;
  /** The bounds in force in this run (the table's defaults, or what the run set). */
  readonly bounds: Bounds;
  /** How much the test sends, at the run's scale. */
  readonly workload: Workload;
  /** The topology's faults; a test may use those its needs declared. */
  readonly faults: FaultClient;
  /** Records the checks and fails the test if one fails. */
  judge(checks: readonly Check[], context?: readonly string[]): void;
  /** Skips the rest of the test, with the reason and what was measured before it in the reports. */
  skip(reason: string, measured?: readonly string[]): never;
  /** Records figures for the reports (a timeline, distributions); call before judge, which may throw. */
  draw(figures: Figures): void;
}

export interface GuardTestOptions {
  needs?: readonly Capability[];
  timeout?: number;
  /** The component this test's failure implicates, when not its property's. */
  implicates?: Component;
}

export interface GuardFile {
  test(name: string, body: (guard: GuardContext) => Promise<void>, options?: GuardTestOptions): void;
  /** The file's suite, once beforeAll has opened it (for setup steps of its own). */
  readonly suite: SuiteFile;
  /** The run's settings, as its setup resolved them. */
  readonly settings: GuardSettings;
  /** How much the file's tests send, at the run's scale (for names and constants of its own). */
  readonly workload: Workload;
}

/** The first need of `needs` the topology lacks, with the reason; undefined when all are met. */
export function unmetNeed(info: TopologyInfo, needs: readonly Capability[]): string | undefined {
  const missing = needs.find((need) => !info.capabilities[need]);
  return missing === undefined ? undefined : `needs ${missing}: ${info.missing[missing] ?? 'not offered'}`;
}

export function guardProperty(id: PropertyId): GuardFile {
  const property = PROPERTIES[id];
  const settings = guardSettings();
  const workload = WORKLOADS[settings.scale];
  const provided = inject('topology');
  const faults = provided.controlUrl ? new FaultClient(provided.controlUrl) : undefined;
  let info = provided;
  let suite: SuiteFile | undefined;
  let faulted = false;

  beforeAll(async () => {
    // The nodes as they are now: an earlier file's fault may have had them replaced (Swarm).
    info = await currentTopology();
    suite = await SuiteFile.open(info, id, faults);
  });
  afterAll(async () => {
    await suite?.close();
    if (faulted && faults) {
      await faults.restore();
      await settleAfterFaults(await faults.info());
    }
  });

  return {
    settings,
    workload,
    get suite(): SuiteFile {
      if (!suite) throw new Error('the guard file is not open yet (use it inside a test or beforeAll)');
      return suite;
    },
    test(name, body, options = {}) {
      it(
        name,
        async (ctx: TestContext) => {
          const meta: GuardMeta = {
            property: id,
            title: property.title,
            implicates: options.implicates ?? property.implicates,
            checks: [],
            context: [],
          };
          ctx.task.meta.guard = meta;
          const skip = (reason: string, measured: readonly string[] = []): never => {
            meta.skipped = reason;
            meta.context.push(...measured);
            if (measured.length > 0)
              console.info(`[${id}] ${name}: skipped: ${reason}\n${measured.join('\n')}`);
            return ctx.skip(reason);
          };
          const needs = [...property.needs, ...(options.needs ?? [])];
          const unmet = unmetNeed(info, needs);
          if (unmet !== undefined) skip(unmet);
          if (needs.some((need) => ['kill', 'stop', 'start', 'add'].includes(need))) faulted = true;
          if (!suite) throw new Error(`${id}: the file's app was not opened`);
          const unattributable = suite.unattributable ?? suite.unidentified;
          if (property.byNode && unattributable !== undefined) skip(unattributable);
          await body({
            suite,
            info,
            property,
            bounds: settings.bounds,
            workload,
            faults: faults as FaultClient,
            skip,
            draw(figures) {
              meta.figures = {
                ...meta.figures,
                ...figures,
                distributions: [...(meta.figures?.distributions ?? []), ...(figures.distributions ?? [])],
              };
            },
            judge(measured, context = []) {
              // A judgement of nothing would pass whatever happened.
              if (measured.length === 0) throw new Error(`${id}: nothing was judged (no checks)`);
              const checks =
                settings.baseline === undefined
                  ? measured
                  : [
                      ...measured,
                      ...baselineChecks(
                        readBaseline(settings.baseline, settings.scale),
                        id,
                        name,
                        measured,
                        settings.baselineTimings,
                      ),
                    ];
              meta.checks.push(...checks);
              meta.context.push(...context);
              const report = checkReport(checks, context);
              console.info(`[${id}] ${name}\n${report}`);
              expect(failedChecks(checks), `${meta.implicates} fails ${property.title}:\n${report}`).toEqual(
                [],
              );
              // Nothing failed for certain, but a lower bound cannot show that it holds either.
              const open = checks.filter(undecided);
              if (open.length > 0) {
                skip(`${open[0]?.atLeast}; undecided: ${open.map(describeCheck).join('; ')}`);
              }
            },
          });
        },
        options.timeout,
      );
    },
  };
}
