// In-process pieces for fnlb's unit tests: a balancer (the real Fnlb class) on 127.0.0.1 and small
// HTTP servers standing in for nodes whose answers a test controls exactly (503s, resets, slow
// bodies), which a real fn-node cannot be made to produce on demand. Tests against real fn-node
// processes live in tests/integration/lb-*.test.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { request } from 'undici';
import { onTestFinished } from 'vitest';
import { waitUntil } from '../../../helpers/wait.js';
import { type LbOptions, parseFlags } from '../../../src/lb/flags.js';
import { Fnlb } from '../../../src/lb/server.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type StandInHandler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

export interface StandInNode {
  address: string;
  seen: SeenRequest[];
  /** Answer of GET /version: status and body. */
  version: { status: number; body: string };
  handle: StandInHandler;
  close(): Promise<void>;
}

export const answerOk: StandInHandler = (req, body, res) => {
  const text = JSON.stringify({ url: req.url, bytes: body.length });
  res.writeHead(200, { 'content-type': 'application/json', 'xxx-fxlb-wait': '1.5ms' }).end(text);
};

/** A stand-in node on 127.0.0.1, closed when the test that started it ends. */
export async function startStandIn(handle: StandInHandler = answerOk): Promise<StandInNode> {
  const server: Server = createServer();
  const node: StandInNode = {
    address: '',
    seen: [],
    version: { status: 200, body: '{"version":"0.1.0"}' },
    handle,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/version') {
        res.writeHead(node.version.status, { 'content-type': 'application/json' }).end(node.version.body);
        return;
      }
      node.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      node.handle(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => node.close());
  node.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return node;
}

export interface LbUnderTest {
  lb: Fnlb;
  url: string;
  mgmtUrl: string;
  close(): Promise<void>;
}

/**
 * A real Fnlb in front of `nodes`, closed when the test that started it ends (before the stand-ins it
 * was given, which started first: Vitest runs those callbacks last-registered first).
 */
export async function startLb(nodes: string[], flags: string[] = [], token?: string): Promise<LbUnderTest> {
  const parsed = parseFlags(['-listen', '127.0.0.1:0', '-hc-interval', '0.05', '-hc-timeout', '1', ...flags]);
  if (parsed.kind !== 'ok') throw new Error(`bad test flags: ${JSON.stringify(parsed)}`);
  const options: LbOptions = { ...parsed.options, nodes };
  const lb = new Fnlb(options, pino({ level: 'silent' }), token);
  const addresses = await lb.start();
  onTestFinished(() => lb.close());
  return {
    lb,
    url: `http://${addresses.listen}`,
    mgmtUrl: `http://${addresses.mgmt}`,
    close: () => lb.close(),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function call(
  url: string,
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    body: options.body,
    headers: options.headers,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

/** Waits until the balancer reports every one of `nodes` online. */
export function waitOnline(lb: Fnlb, nodes: string[]): Promise<void> {
  return waitUntil(`${nodes.join(', ')} online`, () =>
    nodes.every((node) => lb.balancer.get(node)?.online === true),
  ).then(() => undefined);
}

/** `count` stand-in nodes behind a real Fnlb, every one online; all closed when the test ends. */
export async function standInCluster(
  count: number,
  flags: string[] = [],
  token?: string,
): Promise<{ nodes: StandInNode[]; lb: LbUnderTest; authority: string }> {
  const nodes: StandInNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startStandIn());
  const addresses = nodes.map((node) => node.address);
  const lb = await startLb(addresses, flags, token);
  await waitOnline(lb.lb, addresses);
  return { nodes, lb, authority: new URL(lb.url).host };
}
