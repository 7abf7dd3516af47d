// Small pure helpers for the benchmark: medians, spreads, percentiles.

export type Summary = {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
};

export const sortedCopy = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const s = sortedCopy(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

export const summarize = (runs: readonly number[]): Summary => {
  const s = sortedCopy(runs);
  return { median: median(s), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN, runs: [...runs] };
};

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export const percentileSorted = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
};

export const percentile = (values: readonly number[], p: number): number => percentileSorted(sortedCopy(values), p);

/** Latencies collected into a growable typed array (no per-sample objects). */
export class Samples {
  private data = new Float64Array(1024);
  private n = 0;

  add(value: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.n).sort();
  }

  percentiles(...ps: number[]): number[] {
    const s = this.sorted();
    return ps.map((p) => percentileSorted(s, p));
  }
}

/**
 * For each publish (sequence, time) the first time the view's checkpoint was seen at or past that
 * sequence, minus the publish time. Both inputs ascending; checkpoints are monotonic.
 */
export const lagsOf = (
  published: ReadonlyArray<{ readonly seq: number; readonly at: number }>,
  checkpoints: ReadonlyArray<{ readonly seq: number; readonly at: number }>,
): { lags: Samples; unmatched: number } => {
  const lags = new Samples();
  const pubs = [...published].sort((a, b) => a.seq - b.seq);
  let c = 0;
  let unmatched = 0;
  for (const p of pubs) {
    while (c < checkpoints.length && (checkpoints[c]?.seq ?? 0) < p.seq) c++;
    const seen = checkpoints[c];
    if (seen === undefined) {
      unmatched++;
      continue;
    }
    // A checkpoint noticed before the ack came back (possible under load) counts as zero lag.
    lags.add(Math.max(0, seen.at - p.at));
  }
  return { lags, unmatched };
};
