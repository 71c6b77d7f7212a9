// A self-contained SVG of a run: executions per node as horizontal bars (every node, zero included),
// with the run's key numbers underneath. Hand-written (no dependency), no external fonts, styles or
// scripts, so it renders the same in a browser, a CI artifact viewer or a README. Every piece of text
// from the run (node names, routes) is escaped.
import type { HarnessReport } from './report.js';
import { formatSeconds } from './text.js';

const WIDTH = 760;
const ROW = 30;
const BAR_HEIGHT = 20;
const TOP = 78;
const LINE = 20;
const CHAR_WIDTH = 7.5; // of 13px sans-serif, for sizing the label column
/** Footer lines wrap at this many characters, so a long threshold verdict stays inside the picture. */
const WRAP = 96;

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[char]};`,
  );
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}"${attributes ? ` ${attributes}` : ''}>${escapeXml(content)}</text>`;
}

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
  const labelWidth = Math.min(260, Math.max(80, ...nodes.map((n) => n.node.length * CHAR_WIDTH))) + 16;
  const valueWidth = 70;
  const barMax = WIDTH - labelWidth - valueWidth - 20;
  const maxValue = Math.max(1, ...nodes.map((n) => n.executions));
  const notes = footer(report).flatMap((note) =>
    wrap(note).map((line) => ({ line, failed: note.startsWith('FAIL') })),
  );
  const chartBottom = TOP + nodes.length * ROW;
  const height = chartBottom + 24 + notes.length * LINE + 12;
  const routes = report.options.routes;
  const target = routes.length === 1 ? routes[0] : `${routes.length} routes (${routes[0]} ..)`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">`,
    `<title>${escapeXml(`fnlb-harness: executions per node, ${report.totals.made} calls to ${target}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(16, 28, 'Executions per node', 'font-size="18" font-weight="600" fill="#222222"'),
    text(
      16,
      50,
      `${report.totals.made} calls to ${target} through ${report.options.lb}, concurrency ${report.options.concurrency}`,
      'fill="#555555"',
    ),
  ];
  nodes.forEach((node, index) => {
    const y = TOP + index * ROW;
    const width = node.executions === 0 ? 0 : Math.max(2, (node.executions / maxValue) * barMax);
    const labelColour = node.discovered ? '#222222' : '#b03030';
    parts.push(
      text(labelWidth - 8, y + BAR_HEIGHT / 2 + 4, node.node, `text-anchor="end" fill="${labelColour}"`),
      `<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" rx="2" fill="#4c78a8"/>`,
      text(labelWidth + width + 6, y + BAR_HEIGHT / 2 + 4, String(node.executions), 'fill="#222222"'),
    );
  });
  parts.push(
    `<line x1="${labelWidth}" y1="${TOP - 6}" x2="${labelWidth}" y2="${chartBottom - 4}" stroke="#999999"/>`,
  );
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
