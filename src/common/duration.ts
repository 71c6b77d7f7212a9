// Go's time.Duration text form ("1h2m3.5s", "12.5ms", "850µs", "0s"), which historic fnlb reads
// from the XXX-FXLB-WAIT header. We write it exactly as Go's Duration.String() does and read any
// sequence of number+unit pairs that time.ParseDuration accepts.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

function trimNumber(value: number, digits: number): string {
  return value.toFixed(digits).replace(/\.?0+$/, '');
}

/**
 * Formats milliseconds the way Go prints a time.Duration. `microUnit` 'us' gives the ASCII spelling
 * time.ParseDuration also accepts, for HTTP headers: their bytes are Latin-1, so `µs` would reach a
 * Go reader as one byte it cannot parse.
 */
export function formatGoDuration(ms: number, microUnit: 'µs' | 'us' = 'µs'): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1e-3) return `${Math.round(ms * 1e6)}ns`;
  if (ms < 1) return `${trimNumber(ms * 1e3, 3)}${microUnit}`;
  if (ms < 1000) return `${trimNumber(ms, 6)}ms`;
  let rest = ms / 1000;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const seconds = `${trimNumber(rest, 9) || '0'}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;

/** Parses a Go duration string into milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '0') return 0;
  let sign = 1;
  let body = input;
  if (body.startsWith('-') || body.startsWith('+')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  if (body === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(body); match !== null; match = PART.exec(body)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = PART.lastIndex;
  }
  return consumed === body.length ? sign * total : undefined;
}
