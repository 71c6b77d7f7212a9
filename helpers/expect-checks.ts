// Asserts a list of threshold checks in a test and prints the measured figures either way, so a CI
// log shows how close each property came to its bound, not only whether it passed.
import { expect } from 'vitest';
import { type Check, checkReport, failedChecks } from './checks.js';

export function expectChecks(title: string, checks: readonly Check[], context: readonly string[] = []): void {
  const report = checkReport(checks, context);
  console.info(`[${title}]\n${report}`);
  expect(failedChecks(checks), report).toEqual([]);
}
