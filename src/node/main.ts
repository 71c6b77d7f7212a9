#!/usr/bin/env node
// fn-node: one functions node of an Fn-compatible cluster. It owns the Fn v1 and v2 APIs over a shared
// datastore (Postgres, or embedded SQLite), and runs functions in hot containers through a driver.
// This file wires configuration, logging, datastore, metrics and the HTTP server, and owns the
// process lifecycle: exit 2 on bad configuration, drain on SIGTERM/SIGINT.
import { join } from 'node:path';
import { pino } from 'pino';
import { invokeRoutes } from './api/invoke.js';
import { ConfigError, loadConfig, USAGE } from './config.js';
import { DatastoreUnavailableError } from './datastore/datastore.js';
import { openDatastore } from './datastore/open.js';
import { RouteCache } from './datastore/route-cache.js';
import { Drain } from './drain.js';
import { createDriver } from './drivers/index.js';
import { createNodeMetrics } from './metrics.js';
import { stableNodeId } from './node-id.js';
import { createRunner, detectCapacity } from './runner/index.js';
import { buildServer } from './server.js';

/** After the drain deadline, this long for the rest of the shutdown before the node exits anyway. */
const SHUTDOWN_GRACE_MS = 5000;

/** How long a starting node waits for its database (containers often start before Postgres). */
const DATASTORE_START_DEADLINE_MS = 30_000;

async function openWithRetry(url: string | undefined, logger: pino.Logger) {
  const deadline = Date.now() + DATASTORE_START_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatastore(url, logger);
    } catch (error) {
      if (!(error instanceof DatastoreUnavailableError) || Date.now() > deadline) throw error;
      logger.warn({ attempt, err: error.message }, 'datastore not reachable yet, retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * attempt)));
    }
  }
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  let nodeIdSource: string | undefined;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`fn-node: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  // Whatever the node writes (its SQLite database, WAL and journal among them) is its own alone: a
  // function running as another user must not read it.
  process.umask(0o077);
  if (config.nodeIdDefaulted) {
    const kept = stableNodeId(join(process.cwd(), 'data'), config.port, config.nodeId);
    config.nodeId = kept.id;
    nodeIdSource = kept.source;
  }
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  if (nodeIdSource) logger.info({ from: nodeIdSource }, 'node id');
  const datastore = await openWithRetry(config.dbUrl, logger);
  const metrics = createNodeMetrics(config.nodeId);
  const { driver, reason } = await createDriver(config.driver, {
    nodeId: config.nodeId,
    processImages: config.processImages,
    readyTimeoutMs: config.hotStartTimeoutMs,
    iofsPath: config.iofsPath,
    iofsDockerPath: config.iofsDockerPath,
  });
  const capacity = detectCapacity(config.memoryMb);
  logger.info({ driver: driver.kind, memoryMb: capacity.mb, memoryFrom: capacity.source }, reason);
  const runner = createRunner({
    nodeId: config.nodeId,
    driver,
    logger,
    capacityMb: capacity.mb,
    maxStarts: config.maxStarts,
    launch: config.launch,
    maxResponseBytes: config.maxResponseBytes,
    maxQueue: config.maxQueue,
    metrics: metrics.registry,
    ...(config.defaultCpus === undefined ? {} : { defaultCpus: config.defaultCpus }),
  });
  const routes = new RouteCache(datastore);
  const drain = new Drain();
  const server = await buildServer({
    drain,
    nodeId: config.nodeId,
    maxRequestBytes: config.maxRequestBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    maxConnections: config.maxConnections,
    datastore,
    metrics,
    logger,
    ...(config.opaque ? { anonymous: true } : { stats: () => runner.stats() }),
    plugins: [invokeRoutes({ nodeId: config.nodeId, routes, runner })],
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'draining: refusing new calls, finishing in-flight ones');
    // Whatever hangs after the drain (a function that ignores its stop, a client that never reads),
    // the node is gone a moment after its deadline.
    setTimeout(() => {
      logger.warn('shutdown did not finish after the drain deadline: exiting');
      process.exit(0);
    }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
    const ended = await drain.begin(config.shutdownTimeoutMs);
    if (ended === 'deadline') {
      logger.warn({ active: drain.active }, 'shutdown timeout: closing what is left');
      server.server.closeAllConnections();
    }
    await server.close();
    await runner.close();
    routes.close();
    await datastore.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));

  await server.listen({ host: config.host, port: config.port });
  logger.info({ host: config.host, port: config.port, datastore: datastore.kind }, 'fn-node listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`fn-node: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
