#!/usr/bin/env node
// fnlb: the load balancer in front of the functions nodes.
//
// It owns: the historic fnlb command line (flags.ts); routing by consistent hashing with bounded
// loads, so each route sticks to its home node and a hot route spills to a few more (ring.ts,
// balancer.ts), a v2 trigger call keyed by its fn like a direct call of it (fn-keys.ts); failover of
// requests a node never got or refused with 503 (proxy.ts); active and passive health checks
// (health.ts); the proxy on per-node keep-alive pools (proxy.ts); the management API, stats and
// metrics (mgmt.ts, stats.ts); the SIGTERM drain (server.ts); and, with
// -workers above 1, a primary process and proxy workers sharing the listen socket (cluster-*.ts).
// It shares nothing with the nodes but HTTP.
import cluster from 'node:cluster';
import { pino } from 'pino';
import { CONTROL_SOCKET_ENV, FnlbCluster } from './cluster-primary.js';
import { runWorker } from './cluster-worker.js';
import { parseFlags, usage } from './flags.js';
import { Fnlb } from './server.js';

async function main(): Promise<void> {
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\nRun fnlb -help for usage.\n`);
    process.exit(2);
  }
  const log = pino({ name: 'fnlb', level: process.env.FNLB_LOG_LEVEL ?? 'info' });
  const token = process.env.FNLB_MGMT_TOKEN;
  const controlSocket = process.env[CONTROL_SOCKET_ENV];
  if (cluster.isWorker && controlSocket !== undefined) {
    try {
      await runWorker(parsed.options, log.child({ worker: cluster.worker?.id }), token, controlSocket);
    } catch (error) {
      log.error({ err: error }, 'worker cannot start');
      process.exit(1);
    }
    return;
  }
  const lb =
    parsed.options.workers > 1
      ? new FnlbCluster(parsed.options, log, token)
      : new Fnlb(parsed.options, log, token);
  try {
    await lb.start();
  } catch (error) {
    log.error({ err: error }, 'cannot start');
    process.exit(1);
  }
  const stop = (signal: string) => {
    log.info({ signal, in_flight: lb.inFlight }, 'draining');
    lb.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
