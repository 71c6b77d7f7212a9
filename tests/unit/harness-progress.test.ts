import { describe, expect, it } from 'vitest';
import { ProgressBar, plainOutput } from '../../src/harness/progress.js';

/** Carriage return and erase-line: how the bar wipes itself. */
const WIPE = '\r\x1b[K';

function sink() {
  const chunks: string[] = [];
  return { chunks, write: (chunk: string) => chunks.push(chunk) > 0 };
}

describe('progress bar', () => {
  it('draws on stderr only, and the report lines reach stdout whole, the bar wiped before each', () => {
    const stderr = sink();
    const stdout = sink();
    const bar = new ProgressBar(stderr, stdout, 4);
    bar.update(4, 1);
    const drawn = stderr.chunks.at(-1) ?? '';
    expect(drawn.startsWith(WIPE)).toBe(true);
    expect(drawn.slice(WIPE.length)).toMatch(/^\[#{30}\] 4\/4 calls, 1 failed {2}\d+\.\ds$/);
    bar.print('  127.0.0.1:8082 in-function duration: 0.1sec');
    expect(stdout.chunks).toEqual(['  127.0.0.1:8082 in-function duration: 0.1sec\n']);
    // Wiped before the line, redrawn after it.
    expect(stderr.chunks.slice(-2)[0]).toBe(WIPE);
    expect(stderr.chunks.at(-1)).toMatch(/4\/4 calls/);
    bar.clear();
    expect(stderr.chunks.at(-1)).toBe(WIPE);
    const count = stderr.chunks.length;
    bar.clear();
    expect(stderr.chunks.length).toBe(count);
    expect(stdout.chunks.join('')).not.toContain('\x1b');
  });

  it('draws half a bar at half way, and redraws at most every 100 ms until the last call', () => {
    const stderr = sink();
    const bar = new ProgressBar(stderr, sink(), 10);
    bar.update(5, 0);
    expect(stderr.chunks.at(-1)).toContain(`[${'#'.repeat(15)}${'-'.repeat(15)}] 5/10 calls `);
    bar.update(6, 0);
    bar.update(7, 0);
    expect(stderr.chunks.length).toBe(1);
    bar.update(10, 0);
    expect(stderr.chunks.length).toBe(2);
  });

  it('without a terminal, lines go straight to stdout', () => {
    const stdout = sink();
    plainOutput(stdout).print('Results (executions per node):');
    expect(stdout.chunks).toEqual(['Results (executions per node):\n']);
  });
});
