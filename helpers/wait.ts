// Polls for tests: until `predicate` holds, or a value read is the wanted one, failing naming what was
// awaited. One promise under a deadline: src/common/deadline.ts.

/** A wait whose time ran out; an error the predicate throws is passed on as it is instead. */
export class WaitTimeout extends Error {
  override readonly name = 'WaitTimeout';
}

/** Resolves with the milliseconds it took; rejects with a WaitTimeout after `timeoutMs`. */
export async function waitUntil(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > timeoutMs)
      throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return performance.now() - started;
}

/**
 * waitUntil for a caller that reports a timeout itself: the milliseconds it took, or undefined when
 * the time ran out. An error the predicate throws still rejects.
 */
export async function tryWaitUntil(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs?: number,
): Promise<number | undefined> {
  try {
    return await waitUntil(what, predicate, timeoutMs, intervalMs);
  } catch (error) {
    if (error instanceof WaitTimeout) return undefined;
    throw error;
  }
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
    const message = `${(error as Error).message}; last: ${JSON.stringify(last)}`;
    throw error instanceof WaitTimeout ? new WaitTimeout(message) : new Error(message);
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
