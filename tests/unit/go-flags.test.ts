import { describe, expect, it } from 'vitest';
import { FlagError, formatGoUsage, parseGoFlags } from '../../src/common/go-flags.js';

const specs = {
  calls: { kind: 'int', default: 100, min: 1, usage: 'number of calls' },
  lb: { kind: 'string', default: 'localhost:8081', usage: 'balancer' },
  c: { kind: 'float', default: 1.25, min: 1, usage: 'bound factor' },
  v: { kind: 'bool', default: false, usage: 'verbose' },
} as const;

describe('Go-style flags', () => {
  it('keeps defaults when nothing is given', () => {
    const parsed = parseGoFlags([], specs);
    expect(parsed.values).toEqual({ calls: 100, lb: 'localhost:8081', c: 1.25, v: false });
    expect(parsed.given.size).toBe(0);
  });

  it('reads single and double dashes, separate and inline values, and booleans', () => {
    const parsed = parseGoFlags(
      ['-calls', '10', '--lb=127.0.0.1:9', '-c=1.5', '-v', 'rest', '-calls', '3'],
      specs,
    );
    expect(parsed.values).toEqual({ calls: 10, lb: '127.0.0.1:9', c: 1.5, v: true });
    expect(parsed.positionals).toEqual(['rest', '-calls', '3']);
    expect([...parsed.given].sort()).toEqual(['c', 'calls', 'lb', 'v']);
    expect(parseGoFlags(['-v=false'], specs).values.v).toBe(false);
    expect(parseGoFlags(['-help'], specs).help).toBe(true);
  });

  it.each([
    [['-nope'], 'flag provided but not defined: -nope'],
    [['-calls'], 'flag needs an argument: -calls'],
    [['-calls', 'ten'], 'invalid value "ten" for flag -calls: expected an integer'],
    [['-calls', '0'], 'invalid value "0" for flag -calls: must be within 1..inf'],
    [['-c', '1.2.3'], 'invalid value "1.2.3" for flag -c: expected a number'],
    [['-v=maybe'], 'invalid boolean value "maybe" for flag -v'],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseGoFlags(argv, specs)).toThrow(FlagError);
    expect(() => parseGoFlags(argv, specs)).toThrow(message);
  });

  it('prints usage in Go layout', () => {
    const usage = formatGoUsage('fnlb', specs);
    expect(usage).toContain('  -calls int\n    \tnumber of calls (default 100)');
    expect(usage).toContain('  -lb string\n    \tbalancer (default "localhost:8081")');
    expect(usage).toMatch(/ {2}-v\n {4}\tverbose$/);
  });
});
