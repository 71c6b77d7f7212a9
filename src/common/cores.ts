// How many cores this process may use: the CPUs it may run on, capped by its control group's CPU
// quota (a container's --cpus, a Kubernetes CPU limit), which availableParallelism() does not see. A
// balancer sized by the host's 32 cores in a pod limited to 2 would run 32 workers for 2 cores' time.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The quota in CPUs from cgroup v2's cpu.max or v1's cfs files; undefined when there is none. */
export function cgroupCpuQuota(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = read(`${root}/cpu.max`);
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || quota === undefined) return undefined;
    const cpus = Number(quota) / Number(period ?? 100_000);
    return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
  }
  const quota = Number(read(`${root}/cpu/cpu.cfs_quota_us`));
  const period = Number(read(`${root}/cpu/cpu.cfs_period_us`));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

export function usableCores(root?: string): number {
  const quota = cgroupCpuQuota(root);
  const cores = availableParallelism();
  return quota === undefined ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}
