// The run's progress line: which property of how many, the time so far, and the time left estimated
// from the catalogue's costs at this run's pace.
import { describe, expect, it } from 'vitest';
import { PROPERTIES } from '../../guard/catalogue.js';
import { durationText, estimateLeft, progressLine } from '../../guard/report/progress.js';

describe('progress', () => {
  it("estimates what is left at this run's pace", () => {
    const typicalBalance = PROPERTIES.balance.cost.full.seconds;
    const typicalSticky = PROPERTIES.sticky.cost.full.seconds;
    // Sticky took twice its typical time: balance is expected to as well.
    expect(estimateLeft(['sticky'], ['balance'], 2 * typicalSticky)).toBeCloseTo(2 * typicalBalance);
    expect(estimateLeft([], ['balance'], 0)).toBe(typicalBalance);
    // At quick scale, from the quick costs.
    expect(estimateLeft([], ['balance'], 0, 'quick')).toBe(PROPERTIES.balance.cost.quick.seconds);
  });

  it('says which property of how many, and the time so far and left', () => {
    const line = progressLine('sticky', 'pass (2 pass)', ['sticky'], ['sticky', 'balance'], 10);
    expect(line).toMatch(/^1\/2 sticky: pass \(2 pass\); 10 s so far, about \d+ (s|min) left$/);
    expect(progressLine('balance', 'fail', ['sticky', 'balance'], ['sticky', 'balance'], 200)).toBe(
      '2/2 balance: fail; 3 min in all',
    );
    expect(durationText(89)).toBe('89 s');
  });
});
