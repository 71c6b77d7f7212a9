// The report as terminal text. The historic harness's lines come first and keep its exact format,
// since people and scripts read them (discovery lines, `  <node> in-function duration: ...` with -v,
// `Ignoring failed execution on node ...` / `JSON: ...`, and the `Results (executions per node):`
// block with one `  <host:port> <count>` line per node); the enhancements follow after the block.
import { barChart } from './chart.js';
import type { DiscoveredNode } from './discovery.js';
import type { CallRecord, StopReason } from './drive.js';
import type { Distribution, Summary } from './stats.js';
import type { ThresholdVerdict } from './thresholds.js';

/** What the historic output prints for a node nothing identified (Go printed an empty string). */
const UNKNOWN_NODE = 'unknown';

export function discoveryHeader(): string {
  return 'Discovering node ids for every node (the "hostname" each answers with, else its Fn-Node header)...';
}

export function discoveryLines(discovered: DiscoveredNode): string[] {
  if (discovered.id !== undefined) return [`  ${discovered.node} ${discovered.id}`];
  return [
    `  Ignoring host ${discovered.node} which returned error: ${discovered.error ?? 'unknown error'}`,
    `    JSON: ${discovered.body}`,
  ];
}

export function callingLines(
  route: string,
  routes: readonly string[],
  calls: number,
  max: number,
  loops: number,
  concurrency: number,
): string[] {
  const target =
    routes.length === 1 && routes[0] === route
      ? `route ${route}`
      : `${routes.length} routes ${routes[0]} .. ${routes[routes.length - 1]}`;
  const inFlight = concurrency > 1 ? `, ${concurrency} at a time` : '';
  return [
    `All primes will be calculated up to ${max}, a total of ${loops} time(s)`,
    `Calling ${target} ${calls} times (through the load balancer${inFlight})...`,
  ];
}

/** Go's %f: six decimals. */
function goFloat(value: number | null): string {
  return (value ?? 0).toFixed(6);
}

export function verboseLine(record: CallRecord): string {
  return `  ${record.node ?? UNKNOWN_NODE} in-function duration: ${goFloat(record.durationSeconds)}sec, response time: ${goFloat(record.responseSeconds)}sec`;
}

export function failureLines(record: CallRecord): string[] {
  return [
    `  Ignoring failed execution on node ${record.node ?? UNKNOWN_NODE}: ${record.error ?? 'unknown error'}`,
    `    JSON: ${record.body ?? ''}`,
  ];
}

export function resultLines(summary: Summary): string[] {
  return [
    'Results (executions per node):',
    ...summary.nodes.map((node) => `  ${node.node} ${node.executions}`),
  ];
}

export function formatSeconds(seconds: number): string {
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)}µs`;
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)}ms` : `${seconds.toFixed(3)}s`;
}

function distributionLine(title: string, dist: Distribution | null): string {
  if (dist === null) return `${title}: no successful call`;
  const f = formatSeconds;
  return `${title}: p50 ${f(dist.p50)}  p95 ${f(dist.p95)}  p99 ${f(dist.p99)}  (min ${f(dist.min)}, mean ${f(dist.mean)}, max ${f(dist.max)}, n=${dist.count})`;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function nodesPerRouteLines(summary: Summary): string[] {
  const { nodesPerRoute, routes } = summary;
  const rows = Object.entries(nodesPerRoute.distribution)
    .map(([nodes, count]) => ({ nodes: Number(nodes), count }))
    .sort((a, b) => a.nodes - b.nodes)
    .map(({ nodes, count }) => ({
      label: nodes === 0 ? '0 nodes (no successful call)' : plural(nodes, 'node', 'nodes'),
      value: count,
    }));
  return [
    `Nodes per route (${plural(routes.length, 'route', 'routes')}): max ${nodesPerRoute.max}, mean ${nodesPerRoute.mean.toFixed(2)}; routes by node count:`,
    ...barChart(rows),
  ];
}

function stopLine(stop: StopReason, summary: Summary): string[] {
  const { made, planned } = summary.totals;
  if (stop === 'deadline') return [`Stopped by -deadline after ${made} of ${planned} calls`];
  if (stop === 'interrupted') return [`Interrupted after ${made} of ${planned} calls`];
  return [];
}

export function thresholdLines(verdicts: readonly ThresholdVerdict[]): string[] {
  if (verdicts.length === 0) return [];
  return [
    'Thresholds:',
    ...verdicts.map((verdict) => `  ${verdict.passed ? 'ok  ' : 'FAIL'} -${verdict.flag}: ${verdict.detail}`),
  ];
}

/** Everything after the historic block: chart, per-route view, latency, failures, cold starts. */
export function summaryLines(
  summary: Summary,
  stop: StopReason,
  verdicts: readonly ThresholdVerdict[],
): string[] {
  const { totals } = summary;
  const notes = [
    ...summary.nodes
      .filter((node) => !node.discovered && node.id === null)
      .map((node) => `  (${node.node} was not discovered: calls it served show under its id)`),
    ...summary.nodes
      .filter((node) => !node.discovered && node.id !== null)
      .map((node) => `  (${node.node} is an id that matches no discovered node of -nodes)`),
  ];
  const home = summary.homeShare;
  return [
    'Executions per node:',
    ...barChart(summary.nodes.map((node) => ({ label: node.node, value: node.executions }))),
    ...notes,
    ...nodesPerRouteLines(summary),
    home === null
      ? "Home share (calls on a route's most-used node): no successful call"
      : `Home share (calls on a route's most-used node): min ${home.min.toFixed(3)} (${home.worstRoute}), mean ${home.mean.toFixed(3)}`,
    distributionLine('Response time', summary.latencySeconds),
    distributionLine('In-function duration', summary.inFunctionSeconds),
    `Failures: ${totals.failed} of ${totals.made} calls (${totals.noResponse} without any response)`,
    `Cold starts: ${totals.cold} of ${totals.made} calls (Fn-Cold: true)`,
    ...stopLine(stop, summary),
    ...thresholdLines(verdicts),
  ];
}
