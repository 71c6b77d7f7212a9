import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from '../../src/common/duration.js';

describe('Go duration text', () => {
  it.each([
    [0, '0s'],
    [0.0005, '500ns'],
    [0.85, '850µs'],
    [12.5, '12.5ms'],
    [1500, '1.5s'],
    [61_000, '1m1s'],
    [3_723_500, '1h2m3.5s'],
  ])('formats %s ms as %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });

  it.each([
    ['12.5ms', 12.5],
    ['850µs', 0.85],
    ['850us', 0.85],
    ['1h2m3.5s', 3_723_500],
    ['0', 0],
    ['-1s', -1000],
  ])('parses %s', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', 'abc', '12', '1x', '5ms junk'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it('spells microseconds in ASCII for headers when asked', () => {
    expect(formatGoDuration(0.85, 'us')).toBe('850us');
    expect(parseGoDuration(formatGoDuration(0.85, 'us'))).toBeCloseTo(0.85, 9);
  });

  it('round-trips what it formats', () => {
    for (const ms of [0.001, 0.25, 3, 999.5, 1000, 59_999, 7_200_000]) {
      expect(parseGoDuration(formatGoDuration(ms))).toBeCloseTo(ms, 6);
    }
  });
});
