// The run's progress as the console shows it after each property: which of how many, the time so far,
// and an estimate of the time left. The estimate is the catalogue's typical cost of the properties
// still to run at the run's scale (catalogue.ts), scaled by how this run's pace compares with those
// figures so far: a slower machine or a slower system under test stretches it alike.
import { type PropertyId, typicalSeconds } from '../catalogue.js';
import type { Scale } from '../engine/workload.js';

export function durationText(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.round(seconds / 60)} min`;
}

/** Seconds the properties `left` should take, at the pace `done` took `elapsedS`. */
export function estimateLeft(
  done: readonly PropertyId[],
  left: readonly PropertyId[],
  elapsedS: number,
  scale: Scale = 'full',
): number {
  const typicalDone = typicalSeconds(done, scale);
  const pace = typicalDone > 0 ? elapsedS / typicalDone : 1;
  return typicalSeconds(left, scale) * pace;
}

/** `3/13 sticky: pass (2 pass, 0 fail, 0 skipped); 45 s so far, about 4 min left` */
export function progressLine(
  property: PropertyId,
  outcome: string,
  done: readonly PropertyId[],
  planned: readonly PropertyId[],
  elapsedS: number,
  scale: Scale = 'full',
): string {
  const left = planned.filter((id) => !done.includes(id));
  const tail =
    left.length === 0
      ? `; ${durationText(elapsedS)} in all`
      : `; ${durationText(elapsedS)} so far, about ${durationText(estimateLeft(done, left, elapsedS, scale))} left`;
  return `${done.length}/${planned.length} ${property}: ${outcome}${tail}`;
}
