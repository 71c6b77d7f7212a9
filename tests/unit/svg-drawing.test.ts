// The project's shared SVG drawing (src/common/svg.ts), below what the harness's picture
// (harness-svg.test.ts) and the guard's HTML report (guard-html.test.ts) show of it: the strip chart's
// time axis, its failed marks drawn over the others, labels of close moments on rows of their own and
// kept inside the picture, and a label too long for its column cut to its end with the whole in a tooltip.
import { describe, expect, it } from 'vitest';
import { barRows, stripChart } from '../../src/common/svg.js';

const numbers = (svg: string, pattern: RegExp) => [...svg.matchAll(pattern)].map((match) => Number(match[1]));

describe('stripChart', () => {
  const strip = {
    title: 'calls',
    lanes: ['a:1', 'b:1'],
    marks: [
      { atS: 0.5, lane: 1, failed: true },
      { atS: 0, lane: 0, failed: false },
      { atS: 12, lane: 1, failed: false },
    ],
    events: [
      { atS: 3, label: 'kill' },
      { atS: 3.05, label: 'marked down' },
      { atS: 12, label: 'a long label at the very end of the run' },
    ],
    legend: 'blue: ok',
  };
  const svg = stripChart(strip, 960);

  it('has a time axis in round seconds over the whole run, from 0 or the earliest moment', () => {
    expect([...svg.matchAll(/>([\d.-]+) s<\/text>/g)].map((match) => match[1])).toEqual([
      '0',
      '2',
      '4',
      '6',
      '8',
      '10',
      '12',
    ]);
    const early = stripChart(
      { ...strip, marks: [{ atS: 1, lane: 0, failed: false }], events: [{ atS: -0.3, label: 'fault' }] },
      960,
    );
    expect(early).toContain('>-0.2 s</text>');
    expect(early).toContain('>1.0 s</text>');
    expect(early).not.toContain('>-0.4 s</text>');
    expect(stripChart({ ...strip, marks: [], events: [] }, 960)).toContain('>1.0 s</text>');
  });

  it('draws failed marks after (over) the others, and a line per moment', () => {
    const classes = [...svg.matchAll(/<rect class="(mark[^"]*)"/g)].map((match) => match[1]);
    expect(classes).toEqual(['mark', 'mark', 'mark failed']);
    expect(svg.match(/<line class="event"/g)).toHaveLength(3);
  });

  it('puts the labels of close moments on rows of their own, inside the picture', () => {
    const rows = numbers(svg, /<text x="[\d.]+" y="(\d+)" fill="#d97706">/g);
    expect(rows[0]).not.toBe(rows[1]);
    const last = /<text x="([\d.]+)" y="\d+" fill="#d97706">a long label/.exec(svg);
    expect(Number(last?.[1]) + 'a long label at the very end of the run'.length * 7.5).toBeLessThanOrEqual(
      960,
    );
  });
});

describe('barRows', () => {
  it('draws no bar for 0, passes attributes on, and cuts a label too long for its column to its end', () => {
    const long = `${'x'.repeat(40)}.example:8080`;
    const svg = barRows(
      [
        { label: long, value: 0, attributes: 'data-count="0"' },
        { label: 'b<1>', value: 3 },
      ],
      10,
      760,
    ).join('\n');
    expect(svg).toContain('width="0.0" height="20" rx="2" fill="#4c78a8" data-count="0"/>');
    expect(svg).toContain(`<title>${long}</title>…${long.slice(-33)}</text>`);
    expect(svg).toContain('>b&lt;1&gt;</text>');
  });
});
