// A V8 .cpuprofile as an icicle chart (a flame graph drawn top-down) in plain SVG: each frame a box as
// wide as the samples spent in it and below it, callers above callees, coloured by the part of the
// proxy path it belongs to, with the frame's name, file and share in its tooltip. Idle time is left
// out, so the widths are shares of the busy samples. No dependency: the file opens in any browser.
import { escapeXml } from '../src/harness/svg.js';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const WIDTH = 1200;
const ROW = 17;
const TOP = 66;
const LEGEND_PER_ROW = 7;
const IDLE = new Set(['(idle)', '(program)']);

/**
 * `partOf` names a frame's part of the path; `colours` gives each part a fill (unknown parts grey).
 * Returns the SVG text.
 */
export function flameSvg(
  profile: CpuProfile,
  title: string,
  partOf: (frame: ProfileNode['callFrame']) => string,
  colours: Record<string, string>,
): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const total = new Map<number, number>();
  const sum = (node: ProfileNode): number => {
    if (IDLE.has(node.callFrame.functionName)) return 0;
    let samples = self.get(node.id) ?? 0;
    for (const child of node.children ?? []) samples += sum(byId.get(child) as ProfileNode);
    total.set(node.id, samples);
    return samples;
  };
  const root = profile.nodes[0] as ProfileNode;
  const busy = sum(root);
  const scale = WIDTH / Math.max(1, busy);
  const boxes: string[] = [];
  let depthMax = 0;
  const draw = (node: ProfileNode, x: number, depth: number) => {
    const samples = total.get(node.id) ?? 0;
    const width = samples * scale;
    if (width < 0.3) return;
    depthMax = Math.max(depthMax, depth);
    const frame = node.callFrame;
    const name = frame.functionName || '(anonymous)';
    const where =
      frame.url === ''
        ? ''
        : ` ${frame.url.replace(/^.*\/(dist|node_modules)\//, '')}:${frame.lineNumber + 1}`;
    const share = `${((samples / busy) * 100).toFixed(1)}%`;
    const fill = colours[partOf(frame)] ?? '#c8c8c8';
    const y = TOP + depth * ROW;
    const label = width > 36 ? name.slice(0, Math.floor((width - 6) / 6.5)) : '';
    boxes.push(
      `<g><title>${escapeXml(`${name}${where} — ${share} of busy samples`)}</title>` +
        `<rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${ROW - 1}" fill="${fill}"/>` +
        (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + 12}">${escapeXml(label)}</text>` : '') +
        '</g>',
    );
    let offset = x;
    for (const child of node.children ?? []) {
      const childNode = byId.get(child) as ProfileNode;
      draw(childNode, offset, depth + 1);
      offset += (total.get(child) ?? 0) * scale;
    }
  };
  draw(root, 0, 0);
  const legend = Object.entries(colours)
    .map(
      ([part, fill], i) =>
        `<rect x="${(i % LEGEND_PER_ROW) * 170}" y="${22 + Math.floor(i / LEGEND_PER_ROW) * 18}" width="12" height="12" fill="${fill}"/>` +
        `<text x="${(i % LEGEND_PER_ROW) * 170 + 16}" y="${32 + Math.floor(i / LEGEND_PER_ROW) * 18}">${escapeXml(part)}</text>`,
    )
    .join('');
  const height = TOP + (depthMax + 1) * ROW + 4;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<text x="0" y="12" font-size="13">${escapeXml(title)} (${busy} busy samples; hover a box for its frame)</text>` +
    `${legend}${boxes.join('')}</svg>\n`
  );
}
