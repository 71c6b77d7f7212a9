// The image names of the functions this project ships (src/functions: primes, and the test functions
// echo, sleep, crash, garble and hostile), identical for the process driver's registry and for the
// Docker images, and where their compiled entries are. In src/common so the node reads it without
// importing the functions. The names are qualified with the registry `localhost`: an Fn server that
// lacks one of them tries this machine, never a public namespace this project does not own.
import { distPath } from './package-root.js';

/** What the shipped function images' names start with; the guard's --function-images replaces it. */
export const FUNCTION_IMAGE_PREFIX = 'localhost/fnlb-guard/';

export const FUNCTION_IMAGES = {
  'localhost/fnlb-guard/primes': 'primes',
  'localhost/fnlb-guard/echo': 'echo',
  'localhost/fnlb-guard/sleep': 'sleep',
  'localhost/fnlb-guard/crash': 'crash',
  'localhost/fnlb-guard/garble': 'garble',
  'localhost/fnlb-guard/hostile': 'hostile',
} as const;

/** Absolute path of a function's compiled entry (functions always run from the dist/ build). */
export function functionEntry(name: string): string {
  return distPath(`src/functions/${name}.js`);
}

/** The functions the guard's properties run, on whatever node build (their images: --function-images). */
export const GUARD_FUNCTIONS = ['primes', 'sleep', 'echo'] as const;
export type GuardFunction = (typeof GUARD_FUNCTIONS)[number];

/** The guard's name for one of the shipped function images, under `prefix` (--function-images). */
export function functionImage(name: string, prefix: string = FUNCTION_IMAGE_PREFIX): string {
  return `${prefix}${name}`;
}
