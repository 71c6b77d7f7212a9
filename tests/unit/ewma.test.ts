import { describe, expect, it } from 'vitest';
import { DecayingEwma, Ewma } from '../../src/common/ewma.js';

describe('Ewma', () => {
  it('is undefined until the first sample, which seeds it whole; later samples move it by alpha', () => {
    const ewma = new Ewma(0.3);
    expect(ewma.value).toBeUndefined();
    ewma.add(10);
    expect(ewma.value).toBe(10);
    ewma.add(20);
    expect(ewma.value).toBeCloseTo(13);
  });
});

describe('DecayingEwma', () => {
  it('is 0 until the first sample, which seeds it whole, and halves every half-life without samples', () => {
    const ewma = new DecayingEwma(0.3, 1000);
    expect(ewma.value(5000)).toBe(0);
    ewma.add(100, 5000);
    expect(ewma.value(5000)).toBe(100);
    expect(ewma.value(6000)).toBeCloseTo(50);
    expect(ewma.value(7000)).toBeCloseTo(25);
  });

  it('moves from the faded value, not the last stored one', () => {
    const ewma = new DecayingEwma(0.5, 1000);
    ewma.add(100, 1000);
    ewma.add(100, 2000);
    // Faded to 50, then half way to 100.
    expect(ewma.value(2000)).toBeCloseTo(75);
  });
});
