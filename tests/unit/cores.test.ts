// The cores a process may use: its CPUs, capped by a cgroup v2 or v1 CPU quota (read from a fake root).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCores } from '../../src/common/cores.js';

describe('usableCores', () => {
  const roots: string[] = [];
  const root = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'fnguard-cgroup-'));
    roots.push(dir);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  afterEach(() => {
    for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads cgroup v2 cpu.max and v1 cfs files, and no quota as none', () => {
    expect(cgroupCpuQuota(root({ 'cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuQuota(root({ 'cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuQuota(root({ 'cpu/cpu.cfs_quota_us': '50000', 'cpu/cpu.cfs_period_us': '100000' }))).toBe(
      0.5,
    );
    expect(
      cgroupCpuQuota(root({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' })),
    ).toBeUndefined();
    expect(cgroupCpuQuota(root({}))).toBeUndefined();
  });

  it('caps the CPUs by the quota, rounded up, and never says less than 1', () => {
    expect(usableCores(root({ 'cpu.max': '50000 100000' }))).toBe(1);
    expect(usableCores(root({ 'cpu.max': `${availableParallelism() * 200000} 100000` }))).toBe(
      availableParallelism(),
    );
    expect(usableCores(root({}))).toBe(availableParallelism());
    if (availableParallelism() >= 2) expect(usableCores(root({ 'cpu.max': '150000 100000' }))).toBe(2);
  });
});
