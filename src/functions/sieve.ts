/** Number of primes <= max by the sieve of Eratosthenes. */
export function countPrimes(max: number): number {
  if (max < 2) return 0;
  const composite = new Uint8Array(max + 1);
  let count = 0;
  for (let i = 2; i <= max; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j <= max; j += i) composite[j] = 1;
  }
  return count;
}
