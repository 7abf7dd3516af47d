import type { VectorClock } from '../streams/events.js';

export type Ordering = 'BEFORE' | 'AFTER' | 'EQUAL' | 'CONCURRENT';

/** A region's counter; own properties only, so a region named "constructor" is just a region. */
export const counterOf = (clock: VectorClock, region: string): number =>
  Object.prototype.hasOwnProperty.call(clock, region) ? (clock[region] ?? 0) : 0;

/** How a relates to b. Missing entries count as 0, so {} equals {r1: 0}. */
export const compareVectorClocks = (a: VectorClock, b: VectorClock): Ordering => {
  let less = false;
  let greater = false;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = counterOf(a, key);
    const y = counterOf(b, key);
    if (x < y) less = true;
    else if (x > y) greater = true;
    if (less && greater) return 'CONCURRENT';
  }
  if (less) return 'BEFORE';
  if (greater) return 'AFTER';
  return 'EQUAL';
};

/** Pointwise maximum, keys sorted so equal clocks serialize to equal bytes. */
export const mergeVectorClocks = (a: VectorClock, b: VectorClock): VectorClock => {
  const merged: Array<[string, number]> = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const value = Math.max(counterOf(a, key), counterOf(b, key));
    if (value > 0) merged.push([key, value]);
  }
  return Object.fromEntries(merged);
};

/** Canonical form: sorted keys, zero entries dropped. */
export const normalizeClock = (clock: VectorClock): VectorClock => mergeVectorClocks(clock, {});
