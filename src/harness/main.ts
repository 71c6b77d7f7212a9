#!/usr/bin/env node
// fnlb-harness: the load harness for fnlb and any Fn-compatible deployment, a port of the historic
// fnlb-test-harness with -routes and -concurrency added. It learns each node's id by calling the node
// directly, calls a route (or -routes clones of it) through the balancer, and reports how the calls
// were distributed: the historic "Results (executions per node):" block, a bar chart, nodes per route,
// home share, latency percentiles, failures and cold starts; -json and -svg write the report to files,
// and the threshold flags turn it into a CI gate (exit statuses in exit-codes.ts).
//
// This file owns the process: argv, the progress bar's terminal check, signals (the first Ctrl-C
// stops new calls and still deletes the routes the run created; a second one exits at once), and the
// exit status. The modules beside it: flags, discovery, attribution, drive, stats, thresholds, text,
// chart, svg, report, progress, routes.
import { EXIT } from './exit-codes.js';
import { parseHarnessFlags } from './flags.js';
import { runHarness } from './harness.js';

async function main(): Promise<number> {
  const parsed = parseHarnessFlags(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.usage);
    return EXIT.ok;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\n${parsed.usage}`);
    return EXIT.usage;
  }
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\nfnlb-harness: ${signal}: finishing the calls in flight, then cleaning up\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return runHarness(parsed.options, {
    stdout: process.stdout,
    stderr: process.stderr,
    progress: process.stderr.isTTY === true,
    signal: controller.signal,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; should a stray handle remain, it must not hold the exit.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`fnlb-harness: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.internal);
  },
);
