// Where fnlb's time goes on the proxy path (`npm run bench profile`): one fn-node process, fnlb in
// front of it run with V8's CPU profiler (--cpu-prof), 16 callers on GET /version for a few seconds,
// then the profile folded by function: the functions with the most self time, and the share of the
// process's samples that fall in each part of the path (fnlb's own modules, undici, Node's HTTP
// server, logging and metrics), and an icicle chart of it as SVG (flame-svg.ts). The .cpuprofile
// file stays too (Chrome DevTools' Performance panel, or speedscope, open it as it is). fnlb runs with
// -workers 1: one process holds the whole proxy path.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { FnlbProcess } from '../helpers/fnlb-process.js';
import { ScratchNode } from '../helpers/scratch-node.js';
import { type CpuProfile, flameSvg, type ProfileNode } from './flame-svg.js';
import { CALLERS, closedLoop, type Tally } from './lb-latency.js';

const LOAD_MS = 8000;
const TOP = 20;

/** Which part of the path a frame belongs to, by its script's URL. */
function partOf(url: string): string {
  if (url === '') return '(native: socket writes, V8 builtins)';
  if (url.includes('/dist/src/lb/')) return 'fnlb (src/lb)';
  if (url.includes('/dist/src/common/')) return 'shared (src/common)';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('/node_modules/pino') || url.includes('/node_modules/thread-stream')) return 'pino';
  if (url.includes('/node_modules/prom-client/')) return 'prom-client';
  if (url.startsWith('node:_http') || url.startsWith('node:http')) return 'node:http';
  if (url.startsWith('node:net') || url.startsWith('node:internal/stream') || url.startsWith('node:stream'))
    return 'node:net and streams';
  if (url.startsWith('node:')) return 'node (other)';
  return 'other';
}

/** The chart's colour for each part of the path. */
const PART_COLOURS: Record<string, string> = {
  'fnlb (src/lb)': '#f39c12',
  'shared (src/common)': '#f8c471',
  undici: '#5dade2',
  'node:http': '#58d68d',
  'node:net and streams': '#a9dfbf',
  'node (other)': '#d4efdf',
  '(native: socket writes, V8 builtins)': '#aab7b8',
  '(garbage collector)': '#ec7063',
  pino: '#af7ac5',
  'prom-client': '#d2b4de',
  other: '#e5e8e8',
};

function framePart(frame: ProfileNode['callFrame']): string {
  return frame.functionName === '(garbage collector)' ? '(garbage collector)' : partOf(frame.url);
}

function shortUrl(url: string): string {
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 6);
  const modules = url.lastIndexOf('/node_modules/');
  return modules >= 0 ? url.slice(modules + 14) : url;
}

function fold(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfSamples = new Map<number, number>();
  for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
  const idle = new Set(['(idle)', '(program)']);
  let busy = 0;
  const byFunction = new Map<string, number>();
  const byPart = new Map<string, number>();
  for (const [id, count] of selfSamples) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    if (idle.has(frame.functionName)) continue;
    busy += count;
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + count);
    const part = framePart(frame);
    byPart.set(part, (byPart.get(part) ?? 0) + count);
  }
  const share = (count: number) => `${((count / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\nbusy samples by part of the path (${busy} samples, idle left out):`);
  for (const [part, count] of [...byPart].sort((a, b) => b[1] - a[1]))
    console.log(`  ${share(count)}  ${part}`);
  console.log(`\nfunctions with the most self time (top ${TOP}):`);
  for (const [name, count] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`  ${share(count)}  ${name}`);
}

async function drive(url: string): Promise<number> {
  const pool = new Pool(url, { connections: CALLERS, keepAliveTimeout: 10_000 });
  const tally: Tally = { latencies: [], calls: 0, seconds: 0, errors: 0 };
  try {
    await closedLoop(pool, '/version', LOAD_MS, tally);
  } finally {
    await pool.close();
  }
  return tally.calls;
}

export async function runLbProfile(): Promise<void> {
  console.log(
    `== fnlb: CPU profile of the proxy path (GET /version, ${CALLERS} callers, ${LOAD_MS / 1000} s) ==`,
  );
  await using node = await ScratchNode.start({ label: 'bench-profile' });
  // In the node's directory: removed with it, once the profile is read and kept elsewhere.
  const profiles = join(node.dir.path, 'profiles');
  let lb: FnlbProcess | undefined;
  try {
    lb = await FnlbProcess.start({
      nodes: [node.address],
      flags: ['-hc-interval', '1', '-workers', '1'],
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
    });
    const address = node.address;
    await lb.waitNodes('node online', (view) => view[address] === 'online');
    const calls = await drive(lb.url);
    console.log(`${calls} calls through fnlb (${((calls / LOAD_MS) * 1000).toFixed(0)}/s)`);
    await lb.stop();
    lb = undefined;
    const [file] = readdirSync(profiles).filter((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`fnlb wrote no CPU profile in ${profiles}`);
    const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as CpuProfile;
    fold(profile);
    const kept = join(tmpdir(), `fnlb-${Date.now()}`);
    copyFileSync(join(profiles, file), `${kept}.cpuprofile`);
    const title = `fnlb -workers 1, GET /version at ${CALLERS} callers for ${LOAD_MS / 1000} s`;
    writeFileSync(`${kept}.svg`, flameSvg(profile, title, framePart, PART_COLOURS));
    console.log(
      `\nthe profile as an icicle chart: ${kept}.svg; for DevTools or speedscope: ${kept}.cpuprofile`,
    );
  } finally {
    await lb?.stop();
  }
}
