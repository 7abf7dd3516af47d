// The benchmark's events: `regions` regions register, then change `files` files round-robin.
// The first pass registers each file (by region fileIndex mod R), every later pass updates it
// from the next region with a clock that dominates the file's current one (AFTER), so every event
// is applied (none rejected, no conflicts) and each change leaves R-1 pending entries, as in a
// deployment where every region keeps a copy. Round-robin keeps two changes of one file `files`
// events apart, so pipelined or concurrent senders cannot reorder them. Pure and deterministic.
import type { CoordinatorEvent } from '../streams/events.js';
import { subjectFor } from '../streams/subjects.js';

export const regionIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${i + 1}`);

export const regionRegistration = (region: string, at: string): CoordinatorEvent => ({
  schema: 1,
  id: `join-${region}`,
  type: 'region.registered',
  at,
  region,
  name: `Region ${region}`,
  endpoint: `${region}.jzse.bench:7443`,
  location: { latitude: 48.85, longitude: 2.35, name: `dc-${region}` },
  capacity: { totalBytes: 1_000_000_000_000 },
});

export type Encoded = { readonly subject: string; readonly id: string; readonly data: Uint8Array; readonly event: CoordinatorEvent };

const encoder = new TextEncoder();
export const encodeEvent = (event: CoordinatorEvent): Encoded => ({
  subject: subjectFor(event),
  id: event.id,
  data: encoder.encode(JSON.stringify(event)),
  event,
});

export const fileIdOf = (index: number): string => `file-${String(index).padStart(8, '0')}`;

export type ChangeGenerator = {
  /** The next change event; `atMs` is its `at` (defaults to the generator's own clock). */
  readonly next: (atMs?: number) => CoordinatorEvent;
  /** Changes produced so far. */
  readonly produced: () => number;
};

/**
 * `tag` makes event ids unique per generator (several generators may feed one stream if their
 * file sets differ: `firstFile` offsets the file indexes).
 */
export const changeGenerator = (o: {
  readonly regions: readonly string[];
  readonly files: number;
  readonly tag: string;
  readonly baseAtMs: number;
  readonly firstFile?: number;
}): ChangeGenerator => {
  const r = o.regions.length;
  // counters[file * r + region]: the file's vector clock, one counter per region.
  const counters = new Uint32Array(o.files * r);
  let k = 0;
  const next = (atMs?: number): CoordinatorEvent => {
    const file = k % o.files;
    const pass = Math.floor(k / o.files);
    k += 1;
    const ri = (file + pass) % r;
    const region = o.regions[ri] as string;
    counters[file * r + ri] = (counters[file * r + ri] ?? 0) + 1;
    const clock: Record<string, number> = {};
    for (let j = 0; j < r; j++) {
      const c = counters[file * r + j] ?? 0;
      if (c > 0) clock[o.regions[j] as string] = c;
    }
    const at = new Date(atMs ?? o.baseAtMs + k).toISOString();
    const fileId = fileIdOf((o.firstFile ?? 0) + file);
    const meta = {
      fileId,
      path: `/data/${region}/projects/${fileId}.bin`,
      size: 1_048_576 + ((k * 7919) % 1_000_000),
      checksum: `sha256:${(k * 2654435761 >>> 0).toString(16).padStart(8, '0')}${fileId}`,
      modifiedAt: at,
      attributes: { owner: `user-${file % 97}`, tier: 'standard' },
    };
    const id = `${o.tag}-${region}-${k}`;
    return pass === 0
      ? { schema: 1, id, type: 'file.registered', at, region, clock, file: meta, replicas: r }
      : { schema: 1, id, type: 'file.updated', at, region, clock, file: meta };
  };
  return { next, produced: () => k };
};

/** The same change as a gRPC SyncService.HandleChange request (proto-loader object form). */
export const handleChangeRequest = (event: CoordinatorEvent): Record<string, unknown> => {
  if (event.type !== 'file.registered' && event.type !== 'file.updated') throw new Error(`not a change with metadata: ${event.type}`);
  const ts = (iso: string) => {
    const ms = Date.parse(iso);
    return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
  };
  return {
    event: {
      event_id: event.id,
      type: event.type === 'file.registered' ? 'CREATED' : 'UPDATED',
      region_id: event.region,
      metadata: {
        file_id: event.file.fileId,
        path: event.file.path,
        size: String(event.file.size),
        checksum: event.file.checksum,
        modified_at: ts(event.file.modifiedAt),
        vector_clock: Object.fromEntries(Object.entries(event.clock).map(([k, v]) => [k, String(v)])),
        deleted: false,
        attributes: event.file.attributes ?? {},
      },
      timestamp: ts(event.at),
      replicas: event.type === 'file.registered' ? (event.replicas ?? 0) : 0,
    },
    wait_for_view: false,
  };
};
