#!/usr/bin/env node
// The run's fault control server (control.ts) as a command, `fault-cli <kill|stop|start|freeze|thaw>
// <node>`, with the server's URL in FNG_CONTROL_URL: what the suite's own tests of the external
// topology give as FN_NODE_KILL_CMD, FN_NODE_STOP_CMD, FN_NODE_START_CMD, FN_NODE_FREEZE_CMD and
// FN_NODE_THAW_CMD, so faults on a deployment the nested run does not own still reach the nodes the
// outer run started. Exit 0 done, 1 the fault failed, 2 bad use.
import { FaultClient } from '../../../guard/topology/control.js';

const OPS = ['kill', 'stop', 'start', 'freeze', 'thaw'] as const;
type Op = (typeof OPS)[number];

async function main(): Promise<number> {
  const [op, node] = process.argv.slice(2);
  const url = process.env.FNG_CONTROL_URL;
  if (!OPS.includes(op as Op) || !node || !url) {
    process.stderr.write(`usage: FNG_CONTROL_URL=... fault-cli <${OPS.join('|')}> <host:port>\n`);
    return 2;
  }
  try {
    await new FaultClient(url)[op as Op](node);
    return 0;
  } catch (error) {
    process.stderr.write(`fault-cli ${op} ${node}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
