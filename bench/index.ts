// The benchmarks (`npm run bench`): runs every bench module in turn and prints its tables. Benches
// measure and report; they never pass or fail a build. `node dist/bench/index.js lb` runs only the
// modules whose name contains an argument.
import { runLbBench } from './lb-latency.js';
import { runLbProfile } from './lb-profile.js';
import { runRunnerBench } from './runner-process.js';
import { runWorkloadBench } from './workload.js';

const BENCHES: Array<{ name: string; run: () => Promise<void>; onlyWhenNamed?: boolean }> = [
  { name: 'lb', run: runLbBench },
  { name: 'runner', run: runRunnerBench },
  { name: 'workload', run: runWorkloadBench },
  // Only when named (`npm run bench profile`): a profile is for reading, not a figure to compare.
  { name: 'profile', run: runLbProfile, onlyWhenNamed: true },
];

const wanted = process.argv.slice(2);
for (const bench of BENCHES) {
  const named = wanted.some((name) => bench.name.includes(name));
  if (wanted.length > 0 ? !named : bench.onlyWhenNamed) continue;
  await bench.run();
}
