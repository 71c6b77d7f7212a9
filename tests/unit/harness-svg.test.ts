import { describe, expect, it } from 'vitest';
import { parseHarnessFlags } from '../../src/harness/flags.js';
import { buildReport } from '../../src/harness/report.js';
import { escapeXml, renderSvg } from '../../src/harness/svg.js';
import { evaluateThresholds } from '../../src/harness/thresholds.js';
import { allOnOne, NO_BOUNDS, NODES, recorded, summaryOf } from './support/harness-fixtures.js';

const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
const NAME = '[A-Za-z_][\\w.:-]*';
const ATTRIBUTE = new RegExp(`^${NAME}="[^"<]*"$`);

/**
 * Checks XML well-formedness the way a parser would reject a document: one root, every tag closed
 * in order, attributes quoted, no raw "<" or stray "&" in text or attribute values. Returns the
 * element names in document order.
 */
function checkWellFormed(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const checkText = (text: string, where: string) => {
    if (text.includes('<') || text.replace(ENTITY, '').includes('&')) {
      throw new Error(`unescaped markup in ${where}: ${JSON.stringify(text)}`);
    }
  };
  const token = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/?[^>]*>|[^<]+/g;
  for (const [piece] of xml.matchAll(token)) {
    if (piece.startsWith('<!--') || piece.startsWith('<?')) continue;
    if (!piece.startsWith('<')) {
      if (stack.length === 0 && piece.trim() !== '') throw new Error(`text outside the root: ${piece}`);
      checkText(piece, 'text');
      continue;
    }
    const close = /^<\/([^\s>]+)\s*>$/.exec(piece);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) throw new Error(`</${close[1]}> closes <${open}>`);
      continue;
    }
    const open = new RegExp(`^<(${NAME})((?:\\s+${NAME}="[^"]*")*)\\s*(/?)>$`).exec(piece);
    if (!open) throw new Error(`malformed tag: ${piece}`);
    const [, name, attributes, selfClosing] = open as unknown as [string, string, string, string];
    for (const attribute of attributes.trim().match(new RegExp(`${NAME}="[^"]*"`, 'g')) ?? []) {
      if (!ATTRIBUTE.test(attribute)) throw new Error(`bad attribute ${attribute}`);
      checkText(attribute.slice(attribute.indexOf('"') + 1, -1), `attribute of <${name}>`);
    }
    if (stack.length === 0) roots++;
    names.push(name);
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return names;
}

function reportFor(nodes: string[], pick: () => string) {
  const parsed = parseHarnessFlags([]);
  if (parsed.kind !== 'ok') throw new Error('default flags must parse');
  const run = recorded(['/r/primesapp/primes'], 20, pick);
  const summary = summaryOf(run, nodes);
  return buildReport({
    options: { ...parsed.options, nodes },
    routes: run.routes,
    startedAt: new Date(0),
    finishedAt: new Date(1000),
    discovery: nodes.map((node, i) => ({
      node,
      id: `node-${i}`,
      error: undefined,
      reachable: true,
      body: '',
    })),
    records: run.records,
    stop: 'completed',
    summary,
    thresholds: evaluateThresholds(summary, { ...NO_BOUNDS, maxNodesPerRoute: 1 }),
    exitCode: 0,
  });
}

describe('SVG report', () => {
  it('is a well-formed, self-contained SVG with one bar per node, idle nodes included', () => {
    const svg = renderSvg(reportFor(NODES, allOnOne));
    const names = checkWellFormed(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    // No external references: nothing to fetch, no script.
    expect(svg).not.toMatch(/href|<script|@import|url\(/);
    const bars = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="20"/g)];
    expect(bars.map((bar) => Number(bar[1]))).toEqual([expect.any(Number), 0, 0, 0, 0]);
    expect(Number(bars[0]?.[1])).toBeGreaterThan(100);
    for (const node of NODES) expect(svg).toContain(`>${node}</text>`);
    expect(svg).toContain('>20</text>');
    expect(svg).toContain('ok -max-nodes-per-route: measured 1 node on');
  });

  it('escapes node names and routes that contain markup', () => {
    const hostile = ['a<b>&"c\':1', 'x&amp;y:2'];
    const svg = renderSvg(reportFor(hostile, () => hostile[0] as string));
    checkWellFormed(svg);
    expect(svg).toContain('a&lt;b&gt;&amp;&quot;c&apos;:1');
    expect(svg).toContain('x&amp;amp;y:2');
    expect(svg).not.toContain('a<b>');
  });

  it('the checker itself rejects what a parser rejects', () => {
    expect(() => checkWellFormed('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => checkWellFormed('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow();
    expect(() => checkWellFormed('<svg x=1></svg>')).toThrow();
    expect(() => checkWellFormed('<svg/><svg/>')).toThrow();
    expect(checkWellFormed('<svg a="1"><g><text>&lt;&amp;</text></g><rect/></svg>')).toEqual([
      'svg',
      'g',
      'text',
      'rect',
    ]);
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });
});
