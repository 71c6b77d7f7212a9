// Fn's route field `cpus`: the CPU share a function may use, written as millicpus ("500m") or CPUs
// ("0.5", "2"). Empty means the node's default (FN_DEFAULT_CPUS). Both drivers turn it into a quota:
// Docker's NanoCpus, the process driver's cgroup cpu quota where it has one.

/** The most a route may ask for. */
export const MAX_CPUS = 64;

/** CPUs as a number, undefined for "" (the default), or a message saying what is wrong. */
export function parseCpus(text: string): number | undefined | { problem: string } {
  if (text === '') return undefined;
  const milli = /^(\d{1,6})m$/.exec(text);
  const value = milli
    ? Number(milli[1]) / 1000
    : /^\d{1,3}(\.\d{1,3})?$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isFinite(value)) return { problem: 'must be millicpus such as "500m" or CPUs such as "0.5"' };
  if (value < 0.01 || value > MAX_CPUS) return { problem: `must be between 0.01 and ${MAX_CPUS} CPUs` };
  return value;
}
