// Which Fn API the guard speaks, and how a route path becomes a v2 fn: the choice follows what the
// deployment offers (auto prefers v1, the API every property was first written for), a set API the
// deployment lacks is refused naming both, and paths map to fn names Fn accepts.
import { describe, expect, it } from 'vitest';
import { chooseApi, fnName } from '../../guard/topology/fn-api.js';

const BOTH = { v1: undefined, v2: undefined };
const V2_ONLY = { v1: 'GET /v1/apps answered 404', v2: undefined };
const V1_ONLY = { v1: undefined, v2: 'GET /v2/apps?per_page=1 answered 404' };

describe('the Fn API of a run', () => {
  it('auto speaks v1 where offered, else v2, and says why', () => {
    expect(chooseApi('auto', BOTH, 'node')).toEqual({
      version: 'v1',
      reason: 'auto: node offers v1 and v2 (--api v2 for v2)',
    });
    expect(chooseApi('auto', V1_ONLY, 'node').version).toBe('v1');
    expect(chooseApi('auto', V2_ONLY, 'node')).toEqual({
      version: 'v2',
      reason: 'auto: node offers v2 only (GET /v1/apps answered 404)',
    });
  });

  it('takes a set API only where it is offered', () => {
    expect(chooseApi('v2', BOTH, 'node')).toEqual({ version: 'v2', reason: 'as set' });
    expect(() => chooseApi('v2', V1_ONLY, 'http://n:8080')).toThrow(
      'api v2: http://n:8080 does not offer the v2 API (GET /v2/apps?per_page=1 answered 404)',
    );
    expect(() => chooseApi('auto', { v1: 'refused', v2: 'refused too' }, 'n')).toThrow(
      'n offers neither Fn API: refused; refused too',
    );
  });

  it('names a fn after its path with the characters Fn allows', () => {
    expect(fnName('/primes')).toBe('primes');
    expect(fnName('/status-503')).toBe('status-503');
    expect(fnName('/a/b:c')).toMatch(/^a_b_c-[0-9a-f]{6}$/);
    expect(fnName('/a/b')).not.toBe(fnName('/a_b'));
    expect(fnName('/v1.2')).toMatch(/^v1_2-[0-9a-f]{6}$/);
    expect(fnName('/')).toMatch(/^root-[0-9a-f]{6}$/);
  });
});
