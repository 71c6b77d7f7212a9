// The image names of the functions this project ships (src/functions: primes, and the test functions
// echo, sleep, crash, garble and hostile), identical for the process driver's registry and for the
// Docker images, and where their compiled entries are. In src/common so the node reads it without
// importing the functions.
import { distPath } from './package-root.js';

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
