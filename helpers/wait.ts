// Polls for tests: until `predicate` holds, or a value read is the wanted one, failing naming what was
// awaited. One promise under a deadline: src/common/deadline.ts.

/** Resolves with the milliseconds it took; rejects after `timeoutMs`. */
export async function waitUntil(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return performance.now() - started;
}

/**
 * Reads until `wanted` holds for what `read` gives; resolves with that value and the ms it took. A
 * timeout names `what` and shows the last value read.
 */
export async function waitForState<T>(
  what: string,
  read: () => Promise<T>,
  wanted: (value: T) => boolean,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<{ value: T; ms: number }> {
  let last: T | undefined;
  const check = async () => {
    last = await read();
    return wanted(last);
  };
  try {
    const ms = await waitUntil(what, check, timeoutMs, intervalMs);
    return { value: last as T, ms };
  } catch (error) {
    throw new Error(`${(error as Error).message}; last: ${JSON.stringify(last)}`);
  }
}

/** The first value `read` gives that is not false, 0, '', null or undefined; rejects naming `what` after `timeoutMs`. */
export async function waitForValue<T>(
  what: string,
  read: () => T | Promise<T>,
  timeoutMs = 5000,
): Promise<NonNullable<T>> {
  const { value } = await waitForState(what, async () => read(), Boolean, timeoutMs);
  return value as NonNullable<T>;
}
