// Runner bench: what a function call costs on the process driver, next to the floor the machine
// sets, all measured in the same run. Rows: a bare `node -e 0` spawn (spawn to exit), and a bare node
// that writes on fd 3 at once (the floor of "start to ready"); a process
// driver start (spawn to the FDK's readiness signal, no call); a cold call through a real fn-node
// (default format: every call starts its own container); a hot call through the same node (http
// format, one container reused). Sequential calls only; the numbers are for comparison on this
// machine, never a pass/fail.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ScratchNode } from '../helpers/scratch-node.js';
import { FnClient } from '../src/common/fn-client.js';
import { ProcessDriver } from '../src/node/drivers/process-driver.js';
import { ImageRegistry } from '../src/node/drivers/process-registry.js';
import { pct } from './percentile.js';

const SPAWNS = 20;
const COLD_CALLS = 20;
const HOT_WARMUP = 50;
const HOT_CALLS = 500;
const CALL_TIMEOUT_MS = 20_000;

interface Row {
  name: string;
  samples: number[];
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function bareSpawns(): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < SPAWNS; i++) {
    samples.push(
      await timed(
        () =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
            child.once('error', reject);
            child.once('exit', () => resolve());
          }),
      ),
    );
  }
  return samples;
}

/** The floor for "start to ready": a bare node that signals on fd 3 as soon as it runs any code. */
async function bareReady(): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < SPAWNS; i++) {
    let child: ReturnType<typeof spawn> | undefined;
    samples.push(
      await timed(
        () =>
          new Promise<void>((resolve, reject) => {
            child = spawn(process.execPath, ['-e', 'require("fs").writeSync(3, "r")'], {
              stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
            });
            child.once('error', reject);
            child.stdio[3]?.once('data', () => resolve());
          }),
      ),
    );
    await new Promise((resolve) => child?.once('close', resolve));
  }
  return samples;
}

async function driverStarts(): Promise<number[]> {
  const driver = new ProcessDriver({
    registry: ImageRegistry.load(),
    confinement: { nodeId: 'bench-runner' },
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < SPAWNS; i++) {
      const spec = {
        id: `bench${i}`,
        image: 'localhost/fnlb-guard/echo',
        env: { FN_FORMAT: 'http' },
        memoryMb: 128,
        labels: {},
      };
      let instance: Awaited<ReturnType<ProcessDriver['start']>> | undefined;
      samples.push(
        await timed(async () => {
          instance = await driver.start(spec);
        }),
      );
      await instance?.stop();
    }
  } finally {
    await driver.close();
  }
  return samples;
}

async function nodeCalls(): Promise<{ cold: number[]; hot: number[] }> {
  await using node = await ScratchNode.start({ label: 'bench' });
  const api = new FnClient(node.url, { timeoutMs: CALL_TIMEOUT_MS });
  await api.createRoute('bench', { path: '/cold', image: 'localhost/fnlb-guard/echo', format: 'default' });
  await api.createRoute('bench', { path: '/hot', image: 'localhost/fnlb-guard/echo', format: 'http' });
  const call = async (path: string) => {
    const result = await api.call('bench', path, '', 'x');
    if (result.status !== 200) throw new Error(`${path}: HTTP ${result.status} ${result.body}`);
  };
  const cold: number[] = [];
  for (let i = 0; i < COLD_CALLS; i++) cold.push(await timed(() => call('/cold')));
  for (let i = 0; i < HOT_WARMUP; i++) await call('/hot');
  const hot: number[] = [];
  for (let i = 0; i < HOT_CALLS; i++) hot.push(await timed(() => call('/hot')));
  return { cold, hot };
}

function print(rows: Row[]): void {
  const pad = Math.max(...rows.map((row) => row.name.length));
  console.log(`${'what'.padEnd(pad)}  ${'n'.padStart(4)}  ${'p50 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}`);
  for (const row of rows) {
    const sorted = [...row.samples].sort((a, b) => a - b);
    const cells = [pct(sorted, 50), pct(sorted, 99)].map((ms) => ms.toFixed(2).padStart(8));
    console.log(`${row.name.padEnd(pad)}  ${String(sorted.length).padStart(4)}  ${cells.join('  ')}`);
  }
}

export async function runRunnerBench(): Promise<void> {
  console.log('== runner: process driver cold start and hot call versus a bare node spawn (same run) ==');
  const spawns = await bareSpawns();
  const ready = await bareReady();
  const starts = await driverStarts();
  const { cold, hot } = await nodeCalls();
  print([
    { name: 'bare `node -e 0` spawn to exit', samples: spawns },
    { name: 'bare node spawn to its first write on fd 3', samples: ready },
    { name: 'process driver start to ready (localhost/fnlb-guard/echo)', samples: starts },
    { name: 'cold call via fn-node (default format)', samples: cold },
    { name: 'hot call via fn-node (http format)', samples: hot },
  ]);
}
