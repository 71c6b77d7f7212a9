// fnlb's historic command line: defaults, both dash styles, both value styles, and errors that name
// the flag.
import { describe, expect, it } from 'vitest';
import { usableCores } from '../../src/common/cores.js';
import { parseFlags, usage } from '../../src/lb/flags.js';

function ok(argv: string[]) {
  const result = parseFlags(argv);
  if (result.kind !== 'ok') throw new Error(`expected options, got ${JSON.stringify(result)}`);
  return result.options;
}

function error(argv: string[]): string {
  const result = parseFlags(argv);
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.message;
}

describe('fnlb flags', () => {
  it('has the historic defaults, but for the health check timeout (the interval, at most 5 s)', () => {
    expect(ok([])).toEqual({
      nodes: [],
      nodesDns: [],
      dnsIntervalMs: 5000,
      dnsServers: [],
      listen: { host: undefined, port: 8081 },
      mgmtListen: undefined,
      hcIntervalMs: 1000,
      hcPath: '/version',
      hcTimeoutMs: 1000,
      hcUnhealthy: 2,
      hcHealthy: 1,
      minApiVersion: '0.0.235',
      shutdownTimeoutMs: 30_000,
      c: 1.25,
      floor: 8,
      vnodes: 2000,
      upstreamTimeoutMs: 190_000,
      bodyTimeoutMs: 60_000,
      replayBudgetBytes: 64 * 1024 * 1024,
      maxConns: 10_000,
      maxNodes: 1000,
      workers: usableCores(),
      v2Resolve: true,
      apiUrl: undefined,
    });
  });

  it('resolves v2 triggers by default; -v2-resolve=false turns it off, -api-url names the API to ask', () => {
    expect(ok(['-v2-resolve=false']).v2Resolve).toBe(false);
    expect(ok(['--v2-resolve']).v2Resolve).toBe(true);
    expect(ok(['-api-url', 'http://fn-api:8080/']).apiUrl).toBe('http://fn-api:8080');
    expect(ok(['-api-url=https://api.example/fn']).apiUrl).toBe('https://api.example/fn');
    for (const bad of ['fn-api:8080', 'ftp://x/', 'http://x/?a=1', 'http://u:p@x/', 'http://'])
      expect(error(['-api-url', bad])).toContain('-api-url');
    expect(error(['-v2-resolve=false', '-api-url', 'http://x:1'])).toContain('-v2-resolve');
    expect(error(['-v2-resolve=maybe'])).toContain('-v2-resolve');
  });

  it('times a health check out after the interval, at most 5 s, unless -hc-timeout says otherwise', () => {
    expect(ok([]).hcTimeoutMs).toBe(1000);
    expect(ok(['-hc-interval', '0.5']).hcTimeoutMs).toBe(500);
    expect(ok(['-hc-interval', '30']).hcTimeoutMs).toBe(5000);
    expect(ok(['-hc-interval', '1', '-hc-timeout', '5']).hcTimeoutMs).toBe(5000);
  });

  it('takes -workers from 1 to 256, naming the flag otherwise', () => {
    expect(ok(['-workers', '3']).workers).toBe(3);
    for (const bad of ['0', '257', 'x']) {
      const parsed = parseFlags(['-workers', bad]);
      expect(parsed.kind).toBe('error');
      if (parsed.kind === 'error') expect(parsed.message).toContain('-workers');
    }
  });

  it('reads one or two dashes, "-flag value" and "-flag=value"', () => {
    const options = ok([
      '-nodes',
      'a:8080,b:8080, a:8080',
      '--listen=127.0.0.1:9000',
      '-mgmt-listen=:9001',
      '--hc-interval',
      '0.5',
      '-hc-path=/',
      '-hc-timeout=2',
      '--hc-unhealthy=3',
      '-hc-healthy',
      '2',
      '-min-api-version',
      '1.2.3',
      '-shutdown-timeout=0',
      '-c=1.5',
      '--floor',
      '4',
      '-vnodes=100',
    ]);
    expect(options.nodes).toEqual(['a:8080', 'b:8080']);
    expect(options.listen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(options.mgmtListen).toEqual({ host: undefined, port: 9001 });
    expect(options).toMatchObject({
      hcIntervalMs: 500,
      hcPath: '/',
      hcTimeoutMs: 2000,
      hcUnhealthy: 3,
      hcHealthy: 2,
      minApiVersion: '1.2.3',
      shutdownTimeoutMs: 0,
      c: 1.5,
      floor: 4,
      vnodes: 100,
    });
  });

  it('shares one server when -mgmt-listen equals -listen', () => {
    expect(ok(['-listen', ':7000', '-mgmt-listen', ':7000']).mgmtListen).toBeUndefined();
  });

  it('reads -nodes-dns repeated or comma separated, with its interval and resolvers', () => {
    const options = ok([
      '-nodes-dns',
      'tasks.fn.local:8080,Fn.Svc:80',
      '-nodes-dns=other.local:9090',
      '-dns-interval',
      '0.5',
      '-dns-server',
      '10.0.0.2,127.0.0.1:5353,[::1]:53',
    ]);
    expect(options.nodesDns.map((target) => target.name)).toEqual([
      'tasks.fn.local:8080',
      'fn.svc:80',
      'other.local:9090',
    ]);
    expect(options.nodesDns[1]).toEqual({ name: 'fn.svc:80', host: 'fn.svc', port: 80 });
    expect(options.dnsIntervalMs).toBe(500);
    expect(options.dnsServers).toEqual(['10.0.0.2', '127.0.0.1:5353', '[::1]:53']);
  });

  it('accepts IPv6 and host names as nodes', () => {
    expect(ok(['-nodes', '[::1]:8080,Fn-Node-1:8080']).nodes).toEqual(['[::1]:8080', 'fn-node-1:8080']);
  });

  it.each([
    [['-bogus', '1'], '-bogus'],
    [['-nodes', 'no-port'], '-nodes'],
    [['-nodes-dns', '10.0.0.1:8080'], '-nodes-dns'],
    [['-nodes-dns', 'name-without-port'], '-nodes-dns'],
    [['-dns-server', 'resolver.local'], '-dns-server'],
    [['-dns-interval', '0'], '-dns-interval'],
    [['-nodes', 'a:99999'], '-nodes'],
    [['-listen', 'nope'], '-listen'],
    [['-mgmt-listen', 'x:y'], '-mgmt-listen'],
    [['-hc-interval', 'abc'], '-hc-interval'],
    [['-hc-interval', '0'], '-hc-interval'],
    [['-hc-path', 'version'], '-hc-path'],
    [['-hc-timeout', '-1'], '-hc-timeout'],
    [['-hc-unhealthy', '0'], '-hc-unhealthy'],
    [['-hc-healthy', '1.5'], '-hc-healthy'],
    [['-min-api-version', 'latest'], '-min-api-version'],
    [['-shutdown-timeout', 'soon'], '-shutdown-timeout'],
    [['-c', '0.9'], '-c'],
    [['-floor', '0'], '-floor'],
    [['-vnodes', 'many'], '-vnodes'],
    [['-floor'], '-floor'],
    [['stray'], 'stray'],
  ])('rejects %j naming %s', (argv, named) => {
    expect(error(argv)).toContain(named);
  });

  it('answers -help and --help with usage listing every flag', () => {
    expect(parseFlags(['-help']).kind).toBe('help');
    expect(parseFlags(['--help']).kind).toBe('help');
    const text = usage();
    for (const flag of [
      '-nodes',
      '-listen',
      '-mgmt-listen',
      '-hc-interval',
      '-c',
      '-floor',
      '-vnodes',
      '-api-url',
    ]) {
      expect(text).toContain(`  ${flag} `);
    }
    expect(text).toContain('  -v2-resolve\n');
  });
});
