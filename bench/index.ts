// The benchmarks (`npm run bench`): runs every bench module in turn and prints its tables. Benches
// measure and report; they never pass or fail a build. `node dist/bench/index.js lb` runs only the
// modules whose name contains an argument.
import { runLbBench } from './lb-latency.js';
import { runRunnerBench } from './runner-process.js';

const BENCHES: Array<{ name: string; run: () => Promise<void> }> = [
  { name: 'lb', run: runLbBench },
  { name: 'runner', run: runRunnerBench },
];

const wanted = process.argv.slice(2);
for (const bench of BENCHES) {
  if (wanted.length > 0 && !wanted.some((name) => bench.name.includes(name))) continue;
  await bench.run();
}
