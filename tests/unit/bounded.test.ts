// Bounded concurrency: never more than `concurrency` items in flight, items taken in order; settling
// runs everything and lists the failures, failing fast starts nothing after the first failure.
import { describe, expect, it } from 'vitest';
import { forEachBounded, settleBounded } from '../../src/common/bounded.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('bounded concurrency', () => {
  it('keeps at most `concurrency` items in flight and takes them in order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    await forEachBounded([0, 1, 2, 3, 4, 5, 6], 3, async (item, index) => {
      expect(index).toBe(item);
      started.push(item);
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it('settles every item and lists each failure', async () => {
    const done: number[] = [];
    const failures = await settleBounded([1, 2, 3, 4], 2, async (item) => {
      await tick();
      if (item % 2 === 0) throw new Error(`no ${item}`);
      done.push(item);
    });
    expect(done).toEqual([1, 3]);
    expect(failures.map(({ item, error }) => [item, error.message])).toEqual([
      [2, 'no 2'],
      [4, 'no 4'],
    ]);
  });

  it('fails fast: nothing starts after the first failure, and it rejects once those in flight end', async () => {
    const started: number[] = [];
    let ended = 0;
    const run = forEachBounded([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick();
      ended++;
      if (item === 1) throw new Error('item 1 failed');
    });
    await expect(run).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1, 2]);
    expect(ended).toBe(started.length);
  });
});
