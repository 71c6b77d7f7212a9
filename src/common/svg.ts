// The project's hand-written SVG drawing, shared by the harness's report.svg (src/harness/svg.ts) and the
// guard's fnlb-guard.html (guard/report/html.ts): escaping, text, horizontal bars (one row per name,
// its value beside it) and a strip chart of events over time (one lane per name, a mark per event,
// vertical lines for the moments that matter). No dependency, no external fonts, styles or scripts,
// so a picture renders the same in a browser, a CI artifact viewer or a README; every piece of text
// it is given is escaped.

const FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif";
/** Of 13px sans-serif, for sizing a label column. */
const CHAR_WIDTH = 7.5;
/** The height of a bar row, and of a bar in it. */
export const BAR_ROW = 30;
const BAR_HEIGHT = 20;

const COLOUR = {
  ink: '#222222',
  muted: '#555555',
  axis: '#999999',
  bar: '#4c78a8',
  failed: '#c0392b',
  event: '#d97706',
  lane: '#f3f4f6',
};

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[char]};`,
  );
}

export function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}"${attributes ? ` ${attributes}` : ''}>${escapeXml(content)}</text>`;
}

/** A picture's first elements: its size and font, its title (the accessible name), a white ground. */
export function svgOpen(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="13">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
}

/** The most characters a label column shows (its 260 px of text). */
const LABEL_CHARS = 34;

/** The x where bars or lanes start: room for the longest label (80 to 260 px of text) and a gap. */
function labelColumn(labels: readonly string[]): number {
  return Math.min(260, Math.max(80, ...labels.map((label) => label.length * CHAR_WIDTH))) + 16;
}

/**
 * A label right-aligned to end at x. One too long for the column keeps its end (a node's port) after
 * an ellipsis, the whole of it in a tooltip.
 */
function label(x: number, y: number, content: string, colour: string): string {
  const attributes = `text-anchor="end" fill="${colour}"`;
  if (content.length <= LABEL_CHARS) return text(x, y, content, attributes);
  const shown = `…${content.slice(1 - LABEL_CHARS)}`;
  return `<text x="${x}" y="${y}" ${attributes}><title>${escapeXml(content)}</title>${escapeXml(shown)}</text>`;
}

export interface Bar {
  label: string;
  value: number;
  /** The label's colour, when it is not the usual ink (a node the harness did not discover). */
  labelColour?: string;
  /** More attributes of the bar's rect (`data-name="a" data-count="3"`), already escaped. */
  attributes?: string;
}

/**
 * Horizontal bars from `top`, a row of BAR_ROW each, across a picture `width` wide: the label
 * right-aligned before the bars, each bar scaled to the largest value (0 draws none), its value after it.
 */
export function barRows(bars: readonly Bar[], top: number, width: number): string[] {
  const x = labelColumn(bars.map((bar) => bar.label));
  const barMax = width - x - 90;
  const maxValue = Math.max(1, ...bars.map((bar) => bar.value));
  const parts = bars.flatMap((bar, index) => {
    const y = top + index * BAR_ROW;
    const barWidth = bar.value === 0 ? 0 : Math.max(2, (bar.value / maxValue) * barMax);
    const middle = y + BAR_HEIGHT / 2 + 4;
    const more = bar.attributes ? ` ${bar.attributes}` : '';
    return [
      label(x - 8, middle, bar.label, bar.labelColour ?? COLOUR.ink),
      `<rect x="${x}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" rx="2" fill="${COLOUR.bar}"${more}/>`,
      text(x + barWidth + 6, middle, String(bar.value), `fill="${COLOUR.ink}"`),
    ];
  });
  const bottom = top + bars.length * BAR_ROW;
  return [...parts, `<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${bottom - 4}" stroke="${COLOUR.axis}"/>`];
}

/** What a strip chart draws: marks in lanes over time, and labelled moments across every lane. */
export interface Strip {
  title: string;
  lanes: readonly string[];
  /** Each mark: when (s), its lane's index, and whether it is a failure (drawn red, over the others). */
  marks: ReadonlyArray<{ atS: number; lane: number; failed: boolean }>;
  events: ReadonlyArray<{ atS: number; label: string }>;
  /** The line under the chart that says what the marks and lines are. */
  legend: string;
}

const LANE = 24;
const EVENT_LINE = 16;

/** A round step for about `ticks` ticks over `span`: 1, 2 or 5 times a power of ten. */
function tickStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((multiple) => multiple * power >= raw) ?? 10) * power;
}

/**
 * A strip chart `width` wide: x is time in seconds (from the earliest of 0, a mark and an event), one
 * lane per name, a thin mark per event in it (failed ones taller and red), and a dashed line with its
 * label for each moment. Marks carry the class `mark` (`mark failed`), moments `event`.
 */
export function stripChart(strip: Strip, width: number): string {
  const times = [0, ...strip.marks.map((mark) => mark.atS), ...strip.events.map((event) => event.atS)];
  const start = Math.min(...times);
  const span = Math.max(...times) - start || 1;
  const left = labelColumn(strip.lanes);
  const plot = width - left - 24;
  const xOf = (atS: number) => left + ((atS - start) / span) * plot;
  // Each moment's label starts at its line (moved left as far as the picture's edge needs), on the
  // first row where it overlaps no label before it.
  const rowEnds: number[] = [];
  const labels = [...strip.events]
    .sort((a, b) => a.atS - b.atS)
    .map((event) => {
      const x = xOf(event.atS);
      const labelWidth = event.label.length * CHAR_WIDTH;
      const from = Math.max(4, Math.min(x, width - 4 - labelWidth));
      let row = rowEnds.findIndex((end) => end < from - 8);
      if (row === -1) row = rowEnds.push(0) - 1;
      rowEnds[row] = from + labelWidth;
      return { event, x, from, row };
    });
  const lanesTop = 40 + rowEnds.length * EVENT_LINE;
  const lanesBottom = lanesTop + strip.lanes.length * LANE;
  const height = lanesBottom + 52;
  const step = tickStep(span, 8);
  const decimals = Math.max(0, Math.ceil(-Math.log10(step)));
  const first = Math.ceil(start / step - 1e-9);
  const ticks = Array.from(
    { length: Math.floor((start + span) / step + 1e-9) - first + 1 },
    (_, index) => (first + index) * step,
  );
  const mark = ({ atS, lane, failed }: Strip['marks'][number]) => {
    const tall = failed ? LANE - 4 : LANE / 2;
    const y = lanesTop + lane * LANE + (LANE - tall) / 2;
    return failed
      ? `<rect class="mark failed" x="${(xOf(atS) - 1.5).toFixed(1)}" y="${y}" width="3" height="${tall}" fill="${COLOUR.failed}"/>`
      : `<rect class="mark" x="${(xOf(atS) - 0.75).toFixed(1)}" y="${y}" width="1.5" height="${tall}" fill="${COLOUR.bar}" fill-opacity="0.6"/>`;
  };
  const parts = [
    ...svgOpen(width, height, strip.title),
    text(16, 24, strip.title, `font-size="15" font-weight="600" fill="${COLOUR.ink}"`),
    ...strip.lanes.flatMap((lane, index) => {
      const y = lanesTop + index * LANE;
      return [
        ...(index % 2 === 0
          ? [`<rect x="${left}" y="${y}" width="${plot}" height="${LANE}" fill="${COLOUR.lane}"/>`]
          : []),
        label(left - 8, y + LANE / 2 + 4, lane, COLOUR.ink),
      ];
    }),
    ...strip.marks.filter((each) => !each.failed).map(mark),
    ...strip.marks.filter((each) => each.failed).map(mark),
    `<line x1="${left}" y1="${lanesBottom}" x2="${left + plot}" y2="${lanesBottom}" stroke="${COLOUR.axis}"/>`,
    ...ticks.flatMap((tick) => {
      const x = xOf(tick).toFixed(1);
      return [
        `<line x1="${x}" y1="${lanesBottom}" x2="${x}" y2="${lanesBottom + 5}" stroke="${COLOUR.axis}"/>`,
        text(
          Number(x),
          lanesBottom + 18,
          `${tick.toFixed(decimals)} s`,
          `text-anchor="middle" fill="${COLOUR.muted}"`,
        ),
      ];
    }),
    ...labels.flatMap(({ event, x, from, row }) => {
      const y = 40 + row * EVENT_LINE;
      return [
        `<line class="event" x1="${x.toFixed(1)}" y1="${y + 3}" x2="${x.toFixed(1)}" y2="${lanesBottom}" stroke="${COLOUR.event}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
        text(Number(from.toFixed(1)), y, event.label, `fill="${COLOUR.event}"`),
      ];
    }),
    text(16, height - 10, strip.legend, `fill="${COLOUR.muted}"`),
    '</svg>',
  ];
  return parts.join('\n');
}
