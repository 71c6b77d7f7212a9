// One harness run, in the historic order: discover the nodes, (create the -routes clones), drive the
// calls through the balancer, (delete the clones), print the results, write the report files, and
// decide the exit status. Everything the process owns (argv, signals, exit) stays in main.ts, so this
// runs the same under a test.
import { writeFile } from 'node:fs/promises';
import type { WriteStream } from 'node:tty';
import { Agent } from 'undici';
import { FnClient } from '../common/fn-client.js';
import { NodeDirectory } from './attribution.js';
import { type DiscoveredNode, discoverNodes } from './discovery.js';
import { type CallRecord, type DriveResult, drive } from './drive.js';
import { primesQuery } from './execute.js';
import { EXIT, exitStatus, type RunOutcome } from './exit-codes.js';
import { type HarnessOptions, splitInvokePath } from './flags.js';
import { type Output, ProgressBar, plainOutput } from './progress.js';
import { buildReport } from './report.js';
import { type ClonedRoutes, createClones, deleteClones, RouteSetupError } from './routes.js';
import { summarize } from './stats.js';
import { renderSvg } from './svg.js';
import {
  callingLines,
  discoveryHeader,
  discoveryLines,
  failureLines,
  resultLines,
  summaryLines,
  verboseLine,
} from './text.js';
import { evaluateThresholds } from './thresholds.js';

export interface HarnessIo {
  stdout: Pick<WriteStream, 'write'>;
  stderr: Pick<WriteStream, 'write'>;
  /** Draw a progress bar on stderr (main.ts sets it when stderr is a terminal). */
  progress: boolean;
  /** Aborted on Ctrl-C: no new call starts, created routes are still deleted. */
  signal: AbortSignal;
}

/** A step's result, or the exit status that ends the run there. */
type Phase<T> = { ok: true; value: T } | { ok: false; exit: number };

class Run {
  readonly out: Output;
  readonly #agent: Agent;

  constructor(
    readonly options: HarnessOptions,
    readonly io: HarnessIo,
  ) {
    this.out = plainOutput(io.stdout);
    // One keep-alive pool for all calls, closed at the end so the process can exit on its own.
    this.#agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: options.timeoutMs } });
  }

  client(address: string): FnClient {
    return new FnClient(`http://${address}`, { timeoutMs: this.options.timeoutMs, dispatcher: this.#agent });
  }

  error(message: string): void {
    this.io.stderr.write(`fnlb-harness: ${message}\n`);
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  /** The nodes of -nodes, and the first that answered with its id. */
  async discover(directory: NodeDirectory): Promise<Phase<{ nodes: DiscoveredNode[]; answering: string }>> {
    this.out.print(discoveryHeader());
    const discovered = await discoverNodes(directory, this.options.route, (node) => this.client(node));
    for (const node of discovered) for (const line of discoveryLines(node)) this.out.print(line);
    const answering = discovered.find((node) => node.id !== undefined);
    if (answering === undefined) {
      const why = discovered.some((node) => node.reachable)
        ? `no node of -nodes answered ${this.options.route} with its id (see the errors above)`
        : `no node of -nodes (${this.options.nodes.join(', ')}) answered at all`;
      this.error(`cannot reach the deployment: ${why}`);
      return { ok: false, exit: EXIT.unreachable };
    }
    return { ok: true, value: { nodes: discovered, answering: answering.node } };
  }

  async createRoutes(api: FnClient): Promise<Phase<ClonedRoutes>> {
    const { app, path } = splitInvokePath(this.options.route)!;
    try {
      const clones = await createClones(api, app, path, this.options.routes);
      const reused = clones.paths.length - clones.created.length;
      this.out.print(
        `Created ${clones.created.length} routes ${app}${clones.paths[0]} .. ${app}${clones.paths.at(-1)} from ${app}${path}` +
          (reused > 0 ? ` (${reused} already existed: reused, and left in place afterwards)` : ''),
      );
      return { ok: true, value: clones };
    } catch (error) {
      if (!(error instanceof RouteSetupError)) throw error;
      this.error(`cannot set up -routes: ${error.message}`);
      return { ok: false, exit: EXIT.unreachable };
    }
  }

  async deleteRoutes(api: FnClient, clones: ClonedRoutes): Promise<void> {
    if (this.options.keepRoutes) {
      this.out.print(`Kept ${clones.created.length} routes (-keep-routes)`);
      return;
    }
    const failures = await deleteClones(api, clones.app, clones.created);
    this.out.print(`Deleted ${clones.created.length - failures.length} routes created by this run`);
    for (const failure of failures) this.error(`could not delete route ${failure}`);
  }

  async drive(routes: string[], directory: NodeDirectory): Promise<DriveResult> {
    const { options } = this;
    for (const line of callingLines(
      options.route,
      routes,
      options.calls,
      options.max,
      options.loops,
      options.concurrency,
    )) {
      this.out.print(line);
    }
    const bar = this.io.progress ? new ProgressBar(this.io.stderr, this.io.stdout, options.calls) : undefined;
    const out = bar ?? this.out;
    let done = 0;
    let failed = 0;
    const onCall = (record: CallRecord) => {
      done++;
      if (!record.ok) {
        failed++;
        for (const line of failureLines(record)) out.print(line);
      } else if (options.verbose) {
        out.print(verboseLine(record));
      }
      bar?.update(done, failed);
    };
    try {
      return await drive({
        client: this.client(options.lb),
        routes,
        calls: options.calls,
        query: primesQuery(options.max, options.loops),
        concurrency: options.concurrency,
        deadlineMs: options.deadlineMs,
        directory,
        signal: this.io.signal,
        onCall,
      });
    } finally {
      bar?.clear();
    }
  }

  /** Writes the report files; false when one could not be written (said on stderr). */
  async write(file: string | undefined, what: string, content: () => string): Promise<boolean> {
    if (file === undefined) return true;
    try {
      await writeFile(file, content());
      return true;
    } catch (error) {
      this.error(`cannot write the ${what} to ${file}: ${(error as Error).message}`);
      return false;
    }
  }
}

export async function runHarness(options: HarnessOptions, io: HarnessIo): Promise<number> {
  const startedAt = new Date();
  const run = new Run(options, io);
  try {
    const directory = new NodeDirectory(options.nodes);
    const discovery = await run.discover(directory);
    if (!discovery.ok) return discovery.exit;
    if (io.signal.aborted) return EXIT.interrupted;

    // The API goes to a node that just answered, not through the balancer: it must work even when
    // the balancer is the thing that is broken.
    const api = run.client(discovery.value.answering);
    let clones: ClonedRoutes | undefined;
    if (options.routes > 0) {
      const created = await run.createRoutes(api);
      if (!created.ok) return created.exit;
      clones = created.value;
    }
    const routes = clones ? clones.paths.map((path) => `/r/${clones.app}${path}`) : [options.route];

    let driven: DriveResult;
    try {
      driven = await run.drive(routes, directory);
    } finally {
      if (clones) await run.deleteRoutes(api, clones);
    }

    const summary = summarize({
      records: driven.records,
      planned: options.calls,
      discovered: discovery.value.nodes,
      routes,
    });
    const verdicts = evaluateThresholds(summary, options.thresholds);
    for (const line of [...resultLines(summary), ...summaryLines(summary, driven.stop, verdicts)]) {
      run.out.print(line);
    }

    const unreachable = driven.records.length > 0 && summary.totals.noResponse === driven.records.length;
    if (unreachable) {
      run.error(
        `cannot reach the balancer at ${options.lb}: no call got an answer (${driven.records[0]?.error ?? ''})`,
      );
    }
    for (const verdict of verdicts) {
      if (!verdict.passed) run.error(`threshold failed: -${verdict.flag}: ${verdict.detail}`);
    }
    const outcome: RunOutcome = {
      unreachable,
      interrupted: driven.stop === 'interrupted',
      outputFailed: false,
      thresholdsPassed: verdicts.every((verdict) => verdict.passed),
    };
    // The report carries the run's exit status, which a file that cannot be written changes: the SVG
    // is written first, so the JSON report has the final status.
    const report = buildReport({
      options,
      routes,
      startedAt,
      finishedAt: new Date(),
      discovery: discovery.value.nodes,
      records: driven.records,
      stop: driven.stop,
      summary,
      thresholds: verdicts,
      exitCode: exitStatus(outcome),
    });
    const outputs = [
      { file: options.svgFile, what: 'SVG chart', content: () => renderSvg(report) },
      { file: options.jsonFile, what: 'JSON report', content: () => `${JSON.stringify(report, null, 2)}\n` },
    ];
    for (const output of outputs) {
      if (await run.write(output.file, output.what, output.content)) continue;
      outcome.outputFailed = true;
      report.exitCode = exitStatus(outcome);
    }
    return report.exitCode;
  } finally {
    await run.close();
  }
}
