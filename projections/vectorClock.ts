import type { VectorClock } from '../streams/events.js';

export type Ordering = 'BEFORE' | 'AFTER' | 'EQUAL' | 'CONCURRENT';

/** A region's counter; own properties only, so a region named "constructor" is just a region. */
export const counterOf = (clock: VectorClock, region: string): number =>
  Object.prototype.hasOwnProperty.call(clock, region) ? (clock[region] ?? 0) : 0;

/** How a relates to b. Missing entries count as 0, so {} equals {r1: 0}. */
export const compareVectorClocks = (a: VectorClock, b: VectorClock): Ordering => {
  let less = false;
  let greater = false;
  // Every key of a, then b's others: the union without building it (the answer depends only on the flags).
  for (const key of Object.keys(a)) {
    const x = counterOf(a, key);
    const y = counterOf(b, key);
    if (x < y) less = true;
    else if (x > y) greater = true;
    if (less && greater) return 'CONCURRENT';
  }
  for (const key of Object.keys(b)) {
    if (Object.prototype.propertyIsEnumerable.call(a, key)) continue;
    const y = counterOf(b, key);
    if (0 < y) less = true;
    else if (0 > y) greater = true;
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

/** Sorted keys, every counter > 0, a plain object: already what normalizeClock would build. */
const isNormal = (clock: VectorClock): boolean => {
  if (Object.getPrototypeOf(clock) !== Object.prototype) return false;
  let previous: string | undefined;
  for (const key of Object.keys(clock)) {
    const value = clock[key];
    if ((previous !== undefined && previous >= key) || typeof value !== 'number' || !(value > 0)) return false;
    previous = key;
  }
  return true;
};

/** Canonical form: sorted keys, zero entries dropped (what mergeVectorClocks(clock, {}) gives). */
export const normalizeClock = (clock: VectorClock): VectorClock => {
  // Runs on every change. Clocks are never mutated, so one already canonical can be returned as is.
  if (isNormal(clock)) return clock;
  const merged: Array<[string, number]> = [];
  for (const key of Object.keys(clock).sort()) {
    const value = Math.max(counterOf(clock, key), 0);
    if (value > 0) merged.push([key, value]);
  }
  return Object.fromEntries(merged);
};
