// A self-contained SVG of a run: executions per node as horizontal bars (every node, zero included),
// with the run's key numbers underneath, drawn with the project's own SVG primitives
// (src/common/svg.ts: no dependency, no external fonts, styles or scripts, every text escaped).
import { BAR_ROW, barRows, svgOpen, text } from '../common/svg.js';
import type { HarnessReport } from './report.js';
import { formatSeconds } from './text.js';

// Where the bench's flame graph and the harness's tests have always taken it from.
export { escapeXml } from '../common/svg.js';

const WIDTH = 760;
const TOP = 78;
const LINE = 20;
/** Footer lines wrap at this many characters, so a long threshold verdict stays inside the picture. */
const WRAP = 96;

/** Splits at spaces into lines of at most WRAP characters (a longer word stays whole). */
export function wrap(line: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > WRAP) {
      lines.push(current);
      current = `    ${word}`;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  return [...lines, current];
}

function footer(report: HarnessReport): string[] {
  const { totals, nodesPerRoute, homeShare, latencySeconds } = report;
  const latency =
    latencySeconds === null
      ? 'response time: no successful call'
      : `response time p50 ${formatSeconds(latencySeconds.p50)}, p95 ${formatSeconds(latencySeconds.p95)}, p99 ${formatSeconds(latencySeconds.p99)}`;
  const undiscovered = report.nodes.some((node) => !node.discovered);
  return [
    ...(undiscovered ? ['red: a node that was not discovered, or an id that matches none of -nodes'] : []),
    `nodes per route: max ${nodesPerRoute.max}, mean ${nodesPerRoute.mean.toFixed(2)}; home share: ${homeShare === null ? 'n/a' : `min ${homeShare.min.toFixed(3)}, mean ${homeShare.mean.toFixed(3)}`}`,
    latency,
    `failures: ${totals.failed} of ${totals.made}; cold starts: ${totals.cold}`,
    ...report.thresholds.map((v) => `${v.passed ? 'ok' : 'FAIL'} -${v.flag}: ${v.detail}`),
  ];
}

export function renderSvg(report: HarnessReport): string {
  const nodes = report.nodes;
  const notes = footer(report).flatMap((note) =>
    wrap(note).map((line) => ({ line, failed: note.startsWith('FAIL') })),
  );
  const chartBottom = TOP + nodes.length * BAR_ROW;
  const height = chartBottom + 24 + notes.length * LINE + 12;
  const routes = report.options.routes;
  const target = routes.length === 1 ? routes[0] : `${routes.length} routes (${routes[0]} ..)`;
  const parts: string[] = [
    ...svgOpen(WIDTH, height, `fnlb-harness: executions per node, ${report.totals.made} calls to ${target}`),
    text(16, 28, 'Executions per node', 'font-size="18" font-weight="600" fill="#222222"'),
    text(
      16,
      50,
      `${report.totals.made} calls to ${target} through ${report.options.lb}, concurrency ${report.options.concurrency}`,
      'fill="#555555"',
    ),
    ...barRows(
      nodes.map((node) => ({
        label: node.node,
        value: node.executions,
        ...(node.discovered ? {} : { labelColour: '#b03030' }),
      })),
      TOP,
      WIDTH,
    ),
  ];
  notes.forEach(({ line, failed }, index) => {
    parts.push(
      text(
        16,
        chartBottom + 24 + index * LINE,
        line,
        `fill="${failed ? '#b03030' : '#444444'}" xml:space="preserve"`,
      ),
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
