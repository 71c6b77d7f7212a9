// A measured value beside the bound it is judged against: the one shape and comparison the harness's
// threshold flags (src/harness/thresholds.ts) and the guard's checks (guard/engine/checks.ts) share,
// so "measured 37, bound <= 10" is decided and written one way. Nothing measured (null) fails, never
// passes vacuously.
export type BoundOp = '<=' | '>=';

export interface BoundCheck {
  /** Null when there was nothing to measure. */
  measured: number | null;
  op: BoundOp;
  bound: number;
  ok: boolean;
}

export function withinBound(measured: number | null, op: BoundOp, bound: number): boolean {
  if (measured === null) return false;
  return op === '<=' ? measured <= bound : measured >= bound;
}

/** A number as the reports print it: whole, or with three decimals. */
export function formatMeasure(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** `<= 10`, `>= 0.500`. */
export function boundText(op: BoundOp, bound: number): string {
  return `${op} ${formatMeasure(bound)}`;
}
