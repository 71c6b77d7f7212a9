// Work over a list with at most `concurrency` items in flight, taken in order: a thousand routes must
// not become a thousand requests at once.

/** Runs `work` on every item; resolves, once all are done, with the ones that failed. */
export async function settleBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<unknown>,
): Promise<Array<{ item: T; error: Error }>> {
  const failures: Array<{ item: T; error: Error }> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
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

/** Runs `work` on every item; once all are done, rejects with the first failure, if one failed. */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  const [first] = await settleBounded(items, concurrency, work);
  if (first) throw first.error;
}
