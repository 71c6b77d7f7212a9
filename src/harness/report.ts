// The full report of a run, the one shape `-json FILE` writes and the SVG is drawn from. Times are in
// seconds, absent values are null (never missing keys), nodes are listed in -nodes order with every
// node present, calls in call order. `reportVersion` changes when a field changes meaning or goes away.
import type { DiscoveredNode } from './discovery.js';
import type { CallRecord, StopReason } from './drive.js';
import type { HarnessOptions } from './flags.js';
import type { Summary } from './stats.js';
import type { ThresholdVerdict } from './thresholds.js';

export const REPORT_VERSION = 1;

export interface HarnessReport extends Summary {
  tool: 'fnlb-harness';
  reportVersion: typeof REPORT_VERSION;
  startedAt: string;
  finishedAt: string;
  elapsedSeconds: number;
  options: {
    lb: string;
    nodes: string[];
    /** The base route given with -route. */
    route: string;
    /** The invoked paths: the base route, or its clones with -routes. */
    routes: string[];
    calls: number;
    max: number;
    loops: number;
    concurrency: number;
    timeoutSeconds: number;
    deadlineSeconds: number;
  };
  /** Why driving stopped: all calls made, the -deadline passed, or Ctrl-C. */
  stop: StopReason;
  discovery: Array<{ node: string; id: string | null; error: string | null }>;
  thresholds: ThresholdVerdict[];
  exitCode: number;
  calls: CallRecord[];
}

export interface ReportInput {
  options: HarnessOptions;
  routes: readonly string[];
  startedAt: Date;
  finishedAt: Date;
  discovery: readonly DiscoveredNode[];
  records: CallRecord[];
  stop: StopReason;
  summary: Summary;
  thresholds: ThresholdVerdict[];
  exitCode: number;
}

export function buildReport(input: ReportInput): HarnessReport {
  const { options } = input;
  return {
    tool: 'fnlb-harness',
    reportVersion: REPORT_VERSION,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    elapsedSeconds: (input.finishedAt.getTime() - input.startedAt.getTime()) / 1000,
    options: {
      lb: options.lb,
      nodes: options.nodes,
      route: options.route,
      routes: [...input.routes],
      calls: options.calls,
      max: options.max,
      loops: options.loops,
      concurrency: options.concurrency,
      timeoutSeconds: options.timeoutMs / 1000,
      deadlineSeconds: options.deadlineMs / 1000,
    },
    stop: input.stop,
    discovery: input.discovery.map(({ node, id, error }) => ({ node, id: id ?? null, error: error ?? null })),
    ...input.summary,
    thresholds: input.thresholds,
    exitCode: input.exitCode,
    calls: input.records,
  };
}
