// `npm run demo`: the main job on an embedded default. Starts the processes topology (five fn-node
// processes on one SQLite file, one fnlb), creates `primesapp` and its `/primes` route, runs the
// fnlb-harness over 50 routes with 100 calls, prints the report, writes report.svg, and tears
// everything down, also on Ctrl-C. Extra arguments go to the harness: `npm run demo -- -calls 500`.

import { ProcessTopology } from '../guard/topology/processes.js';
import { FnClient } from '../src/common/fn-client.js';
import { EXIT } from '../src/harness/exit-codes.js';
import { parseHarnessFlags } from '../src/harness/flags.js';
import { runHarness } from '../src/harness/harness.js';

const DEMO_FLAGS = ['-calls', '100', '-routes', '50', '-max', '100000', '-svg', 'report.svg'];

async function main(): Promise<number> {
  const extra = process.argv.slice(2);
  const controller = new AbortController();
  let topology: ProcessTopology | undefined;
  const onSignal = () => {
    if (controller.signal.aborted) {
      // Second Ctrl-C: stop the children now rather than leave them behind.
      void topology?.close().finally(() => process.exit(EXIT.interrupted));
      return;
    }
    process.stderr.write('\ndemo: interrupted: finishing the calls in flight, then tearing down\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  process.stdout.write('demo: starting 5 fn-node processes (SQLite) and fnlb on 127.0.0.1...\n');
  topology = await ProcessTopology.start({ nodes: 5 });
  try {
    const { info } = topology;
    process.stdout.write(`demo: fnlb ${info.lbUrl}, nodes ${info.nodes.join(', ')}\n`);
    const api = new FnClient(info.lbUrl, { timeoutMs: 10_000 });
    await api.createRoute('primesapp', {
      path: '/primes',
      image: 'localhost/fnlb-guard/primes',
      format: 'http',
    });
    process.stdout.write(
      'demo: created primesapp and its /primes route (localhost/fnlb-guard/primes, http format)\n\n',
    );
    const argv = ['-lb', new URL(info.lbUrl).host, '-nodes', info.nodes.join(','), ...DEMO_FLAGS, ...extra];
    const parsed = parseHarnessFlags(argv);
    if (parsed.kind !== 'ok') {
      process.stderr.write(`${parsed.kind === 'error' ? parsed.message : ''}\n${parsed.usage}`);
      return parsed.kind === 'help' ? EXIT.ok : EXIT.usage;
    }
    return await runHarness(parsed.options, {
      stdout: process.stdout,
      stderr: process.stderr,
      progress: process.stderr.isTTY === true,
      signal: controller.signal,
    });
  } finally {
    process.stdout.write('\ndemo: stopping fnlb and the nodes\n');
    await topology.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.internal);
  },
);
