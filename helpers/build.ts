// Builds dist/ for the test projects whose child processes (fn-node, fnlb, functions) run the compiled
// code, so `npx vitest` works without `npm run build` first.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const BUILD_TIMEOUT_MS = 180_000;

/**
 * Type errors are reported but do not stop the run: tsc still emits, and the CI typecheck step is the
 * gate for them. A build that cannot run at all (tsc missing, timeout) does stop it.
 */
export async function buildDist(project: string): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: BUILD_TIMEOUT_MS,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, signal) =>
      signal
        ? reject(new Error(`tsc build killed by ${signal} (timeout ${BUILD_TIMEOUT_MS} ms)`))
        : resolve(exitCode),
    );
  });
  if (code !== 0)
    console.warn(`[${project}] warning: tsc -p tsconfig.build.json reported errors:\n${output}`);
}
