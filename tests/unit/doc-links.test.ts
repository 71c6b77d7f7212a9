// The manual's links: every relative link of README.md, CHANGELOG.md and docs/*.md names a file that
// exists and, with a #fragment, a heading of that file by GitHub's anchor rules, so pages can move and
// be renamed without leaving a link to nowhere; and the README, the front door, links every page.
// npm renders the README with its relative links pointed at the repository, and docs/*.md ship in the
// package, so a relative link is right in both places or in neither.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE } from '../../src/common/package-root.js';

const root = PACKAGE.root;
const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Markdown without its fenced code blocks (a `# comment` in one is no heading, a `[x](y)` no link). */
function withoutCode(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || fence === marker)) {
      fence = fence === undefined ? marker : undefined;
      lines.push('');
    } else lines.push(fence === undefined ? line : '');
  }
  return lines;
}

/**
 * GitHub's anchor of a heading (github-slugger): the text without its markup, lowercased, every
 * character but letters, digits, marks, '_', '-' and spaces dropped, spaces turned to '-'.
 */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of withoutCode(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

interface Link {
  line: number;
  target: string;
}

/** The relative links and images of a page (inline code aside), with their line numbers. */
function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  withoutCode(markdown).forEach((text, index) => {
    const prose = text.replace(/(`+)[^`]*?\1/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push({ line: index + 1, target });
    }
  });
  return links;
}

/** Why a link of `page` leads nowhere, or undefined when it leads to a file and its heading. */
function brokenLink(page: string, target: string): string | undefined {
  const [path = '', fragment] = target.split('#', 2);
  const file = path === '' ? page : relative(root, join(root, dirname(page), decodeURIComponent(path)));
  if (file.startsWith('..')) return `${file} is outside the package`;
  const absolute = join(root, file);
  if (!existsSync(absolute)) return `${file} does not exist`;
  if (fragment === undefined || fragment === '') return undefined;
  if (!file.endsWith('.md') || statSync(absolute).isDirectory())
    return `#${fragment} on ${file}, which is no page`;
  const found = anchors(readFileSync(absolute, 'utf8'));
  return found.has(decodeURIComponent(fragment)) ? undefined : `${file} has no heading #${fragment}`;
}

describe("the manual's links", () => {
  it("makes GitHub's anchors of headings", () => {
    expect(slug('Running `fnlb-guard`')).toBe('running-fnlb-guard');
    expect(slug('The external topology: a running deployment')).toBe(
      'the-external-topology-a-running-deployment',
    );
    expect(slug("Fn's own cluster")).toBe('fns-own-cluster');
    expect(slug('Workers (`-workers`)')).toBe('workers--workers');
    expect(slug('Bites and mutants: how the checks are tested')).toBe(
      'bites-and-mutants-how-the-checks-are-tested',
    );
    expect(slug('[fn-node](docs/node.md), the node')).toBe('fn-node-the-node');
    expect([...anchors('# A\n```sh\n# not a heading\n```\n## A\n### b_c\n')]).toEqual(['a', 'a-1', 'b_c']);
  });

  it('finds a broken link and a link to a missing heading', () => {
    expect(brokenLink('README.md', 'docs/guard.md#no-such-heading')).toBe(
      'docs/guard.md has no heading #no-such-heading',
    );
    expect(brokenLink('docs/guard.md', 'nowhere.md')).toBe('docs/nowhere.md does not exist');
    expect(brokenLink('docs/guard.md', '../README.md')).toBeUndefined();
  });

  it.each(pages)('%s: every relative link leads to a file and its heading', (page) => {
    const markdown = readFileSync(join(root, page), 'utf8');
    const broken = relativeLinks(markdown).flatMap(({ line, target }) => {
      const why = brokenLink(page, target);
      return why === undefined ? [] : [`${page}:${line}: (${target}): ${why}`];
    });
    expect(broken).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const linked = new Set(
      relativeLinks(readFileSync(join(root, 'README.md'), 'utf8')).map(({ target }) => target.split('#')[0]),
    );
    const pagesOfDocs = pages.filter((page) => page.startsWith('docs/'));
    expect(pagesOfDocs.filter((page) => !linked.has(page))).toEqual([]);
  });
});
