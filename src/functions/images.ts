// src/functions: the functions this project ships (primes, and the test functions echo, sleep,
// crash, garble and hostile), the tiny FDK they share (fdk.ts), and this module: the image names they are
// known by, identical for the process driver's registry and for Docker images.
import { distPath } from '../common/package-root.js';

export const FUNCTION_IMAGES = {
  'fnguard/primes': 'primes',
  'fnguard/echo': 'echo',
  'fnguard/sleep': 'sleep',
  'fnguard/crash': 'crash',
  'fnguard/garble': 'garble',
  'fnguard/hostile': 'hostile',
} as const;

/** Absolute path of a function's compiled entry (functions always run from the dist/ build). */
export function functionEntry(name: string): string {
  return distPath(`src/functions/${name}.js`);
}
