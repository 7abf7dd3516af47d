// Simulated regions: each keeps the clocks it has learned, increments its own counter on each
// change, and learns other regions' versions only some of the time, so AFTER and CONCURRENT both
// occur. Seeded, so a failing run can be replayed.
import type { CoordinatorEvent, VectorClock } from '../../streams/events.js';
import { mergeVectorClocks } from '../../projections/vectorClock.js';

/** mulberry32: a small seeded PRNG for test workloads (never used by the coordinator). */
export const prng = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

// Event times start a minute before the run, like a region's real clock would.
const BASE_TIME = Date.now() - 60_000;

export const regionRegistration = (region: string, n: number): CoordinatorEvent => ({
  schema: 1,
  id: `reg-${region}`,
  type: 'region.registered',
  at: new Date(BASE_TIME + n).toISOString(),
  region,
  name: `Region ${region}`,
  endpoint: `${region}.jzse.test:7000`,
  location: { latitude: 10 * n, longitude: 20 * n, name: `dc-${region}` },
  capacity: { totalBytes: 1_000_000_000 },
});

export type Workload = {
  /** The next event for `region`, or undefined when its share is done. */
  next: (region: string) => CoordinatorEvent | undefined;
  /** Tells the simulation a change was stored, so other regions may learn of it. */
  stored: (event: CoordinatorEvent) => void;
};

export const createWorkload = (regions: readonly string[], perRegion: number, seed = 42): Workload => {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const global = new Map<string, VectorClock>();
  const known = new Map(regions.map((r) => [r, new Map<string, VectorClock>()]));
  const produced = new Map(regions.map((r) => [r, 0]));
  let counter = 0;
  let files = 0;

  const next = (region: string): CoordinatorEvent | undefined => {
    const done = produced.get(region) ?? 0;
    if (done >= perRegion) return undefined;
    produced.set(region, done + 1);
    counter += 1;
    const mine = known.get(region) ?? new Map<string, VectorClock>();
    const at = new Date(BASE_TIME + 1000 + counter * 10 + Math.floor(random() * 50)).toISOString();
    const id = `${region}-e${done + 1}`;
    const roll = random();
    if (mine.size === 0 || roll < 0.25) {
      files += 1;
      const fileId = `f${String(files).padStart(5, '0')}-${region}`;
      const clock = { [region]: 1 };
      mine.set(fileId, clock);
      return {
        schema: 1, id, type: 'file.registered', at, region, clock,
        file: { fileId, path: `/data/${region}/${fileId}.bin`, size: Math.floor(random() * 1e6), checksum: `sha256:${counter}`, modifiedAt: at, attributes: { owner: region } },
      };
    }
    const fileId = pick([...mine.keys()]);
    const base = mine.get(fileId) ?? {};
    const clock = { ...base, [region]: (base[region] ?? 0) + 1 };
    mine.set(fileId, clock);
    if (roll < 0.3) return { schema: 1, id, type: 'file.deleted', at, region, fileId, clock };
    if (roll < 0.4) return { schema: 1, id, type: 'sync.acked', at, region, files: [{ fileId, clock: base }] };
    if (roll < 0.45) return { schema: 1, id, type: 'region.heartbeat', at, region, status: { state: 'healthy', syncLag: Math.floor(random() * 10), storageUsed: counter, loadLevel: random() } };
    return {
      schema: 1, id, type: 'file.updated', at, region, clock,
      file: { fileId, path: `/data/${fileId}.bin`, size: Math.floor(random() * 1e6), checksum: `sha256:${counter}`, modifiedAt: at },
    };
  };

  const stored = (event: CoordinatorEvent): void => {
    if (event.type !== 'file.registered' && event.type !== 'file.updated' && event.type !== 'file.deleted') return;
    const fileId = event.type === 'file.deleted' ? event.fileId : event.file.fileId;
    const merged = mergeVectorClocks(global.get(fileId) ?? {}, event.clock);
    global.set(fileId, merged);
    for (const r of regions) {
      const mine = known.get(r);
      // Other regions learn of a version two times in three; the rest of the time they write blind.
      if (mine !== undefined && (r === event.region || mine.has(fileId) || random() < 0.5) && random() < 0.67) mine.set(fileId, merged);
    }
  };

  return { next, stored };
};
