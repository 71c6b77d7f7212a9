// Percentiles for the bench tables: nearest rank, as the harness reports them, and NaN when nothing
// was measured (every call of a target failed) so the table still prints.
import { percentile } from '../src/harness/stats.js';

export const pct = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? Number.NaN : percentile(sorted, p);
