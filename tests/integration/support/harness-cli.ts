// Runs the compiled fnlb-harness CLI (the dist/ build) as a child process to completion, for tests
// that check what a user of the command sees: its exit status, its output and the files it writes.
import { execFile } from 'node:child_process';
import { distPath } from '../../../src/common/package-root.js';

export const HARNESS_ENTRY = distPath('src/harness/main.js');

export interface CliResult {
  /** The exit status; null when the run was killed (by `timeoutMs` or a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runHarnessCli(args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HARNESS_ENTRY, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
