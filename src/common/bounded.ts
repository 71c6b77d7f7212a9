// Work over a list with at most `concurrency` items in flight, taken in order: a thousand routes must
// not become a thousand requests at once.

type Work<T> = (item: T, index: number) => Promise<unknown>;
type Failure<T> = { item: T; error: Error };

/** The workers; with `failFast`, no item starts once one has failed. */
async function runBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: Work<T>,
  failFast: boolean,
): Promise<Array<Failure<T>>> {
  const failures: Array<Failure<T>> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !(failFast && failures.length > 0)) {
      const index = next++;
      const item = items[index] as T;
      try {
        await work(item, index);
      } catch (error) {
        failures.push({ item, error: error as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return failures;
}

/** Runs `work` on every item; resolves, once all are done, with the ones that failed. */
export function settleBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: Work<T>,
): Promise<Array<Failure<T>>> {
  return runBounded(items, concurrency, work, false);
}

/**
 * Runs `work` on the items until one fails: then no further item starts, and once those in flight
 * are done it rejects with the first failure.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: Work<T>,
): Promise<void> {
  const [first] = await runBounded(items, concurrency, work, true);
  if (first) throw first.error;
}
