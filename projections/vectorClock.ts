import type { VectorClock } from '../streams/events.js';

export type Ordering = 'BEFORE' | 'AFTER' | 'EQUAL' | 'CONCURRENT';

/** How a relates to b. Missing entries count as 0, so {} equals {r1: 0}. */
export const compareVectorClocks = (a: VectorClock, b: VectorClock): Ordering => {
  let less = false;
  let greater = false;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[key] ?? 0;
    const y = b[key] ?? 0;
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
  const merged: Record<string, number> = {};
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const value = Math.max(a[key] ?? 0, b[key] ?? 0);
    if (value > 0) merged[key] = value;
  }
  return merged;
};

/** Canonical form: sorted keys, zero entries dropped. */
export const normalizeClock = (clock: VectorClock): VectorClock => mergeVectorClocks(clock, {});
