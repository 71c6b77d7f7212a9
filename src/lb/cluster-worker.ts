// fnlb with -workers N above 1: one worker process. It proxies on the listen socket it shares with the
// other workers, with the node set and states the primary sends (cluster-primary.ts), bounding each
// node's load by its own calls in flight plus the other workers', which the primary passes on every
// LOAD_SHARE_MS. What it learns from a call (a node refused the connect, or is draining) it applies at
// once and tells the primary, which tells the other workers.
// Management calls on the shared port go to the primary. It drains when the primary says so, and
// exits if the primary is gone (the listen socket is the primary's).
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Balancer } from './balancer.js';
import {
  type InFlight,
  isFnlbMessage,
  LOAD_SHARE_MS,
  type ToPrimary,
  type ToWorker,
} from './cluster-wire.js';
import type { LbOptions } from './flags.js';
import { localReports } from './mgmt.js';
import { Fnlb } from './server.js';

function tell(message: ToPrimary): void {
  if (process.connected) process.send?.(message);
}

/** The other workers' calls in flight, as the primary added them up, into this worker's balancer. */
function applyPeers(balancer: Balancer, inFlight: InFlight): void {
  let total = 0;
  for (const backend of balancer.backends()) {
    backend.peerInFlight = inFlight[backend.address] ?? 0;
    total += backend.peerInFlight;
  }
  balancer.peerTotalInFlight = total;
}

/** Tells the primary this worker's calls in flight per node every LOAD_SHARE_MS, when they changed. */
function shareLoad(balancer: Balancer): NodeJS.Timeout {
  let sent = '{}';
  const timer = setInterval(() => {
    const inFlight: InFlight = {};
    for (const backend of balancer.backends())
      if (backend.inFlight > 0) inFlight[backend.address] = backend.inFlight;
    const text = JSON.stringify(inFlight);
    if (text === sent) return;
    sent = text;
    tell({ fnlb: 'load', inFlight });
  }, LOAD_SHARE_MS);
  timer.unref();
  return timer;
}

export async function runWorker(
  options: LbOptions,
  log: Logger,
  token: string | undefined,
  controlSocket: string,
): Promise<void> {
  const lb = new Fnlb(options, log, token, { kind: 'proxy', controlSocket });
  // prom-client's cluster metrics: the primary asks, each worker answers with this registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([lb.stats.registry]);
  lb.health.onPassive = (address, mark) => tell({ fnlb: 'mark', address, mark });
  const sharing = shareLoad(lb.balancer);
  const drain = () => {
    clearInterval(sharing);
    lb.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  const firstView = new Promise<void>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isFnlbMessage<ToWorker>(message)) return;
      switch (message.fnlb) {
        case 'view':
          lb.applyView(message.nodes);
          tell({ fnlb: 'viewed', seq: message.seq });
          resolve();
          return;
        case 'peers':
          applyPeers(lb.balancer, message.inFlight);
          return;
        case 'stats?':
          void localReports(lb.balancer, lb.stats)
            .stats()
            .then((stats) => tell({ fnlb: 'stats', id: message.id, stats }));
          return;
        case 'drain':
          drain();
          return;
      }
    });
  });
  process.once('disconnect', () => {
    log.error('fnlb primary gone: worker exits');
    process.exit(1);
  });
  // A signal to the whole process group (Ctrl-C) reaches the workers too: each drains as on 'drain'.
  process.once('SIGTERM', drain);
  process.once('SIGINT', drain);
  tell({ fnlb: 'hello' });
  await firstView;
  const { listen } = await lb.start();
  tell({ fnlb: 'ready', listen });
}
