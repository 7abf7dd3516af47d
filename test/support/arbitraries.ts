// fast-check arbitraries for realistic logs: 2–4 regions register first, then change files while
// keeping a local copy of the clocks they have seen (so AFTER, CONCURRENT and stale BEFORE writes all
// occur), learn versions from the coordinator or from each other, ack current or older versions,
// send heartbeats, sometimes leave (and come back), operators set policies, and now and then garbage
// or half-valid JSON lands on a subject. Everything, times included, comes from the generated data.
//
// The arbitrary generates a list of abstract actions (indices, sizes, delays) and a deterministic
// simulator turns them into events: shrinking works on the actions, and any shrunk list is valid.
import fc from 'fast-check';
import type { StoredEvent } from '../../projections/view.js';
import { compareVectorClocks, mergeVectorClocks } from '../../projections/vectorClock.js';
import {
  SCHEMA_VERSION,
  type ChangeEvent,
  type CoordinatorEvent,
  type RegionStatus,
  type VectorClock,
} from '../../streams/events.js';
import {
  ADMIN_CONFLICTS, ADMIN_POLICIES, REGIONS_STATUS, SYNC_ACKS, apiSubject, changesSubject, regionStatusSubject, subjectFor, syncAcksSubject,
} from '../../streams/subjects.js';
import { encode, iso, storedAtFor, T0_MS } from './events.js';

export const REGION_POOL = ['eu-west', 'us-east', 'ap-south', 'sa-east'] as const;
export const FILE_POOL: readonly string[] = ['f1', 'f2', 'f3', 'f4'];
const PATTERNS = ['/data/*', '/hot/*', '/cold/**'] as const;

type RegionIx = { readonly region: number };
type FileIx = { readonly file: number };
/** How long before being stored the event was created, in ms. */
type Delay = { readonly delayMs: number };

export type Action =
  | ({ readonly kind: 'change'; readonly op: 'register' | 'update' | 'delete'; readonly size: number } & RegionIx & FileIx & Delay)
  | ({ readonly kind: 'stale'; readonly back: number } & RegionIx & FileIx & Delay)
  | ({ readonly kind: 'learn'; readonly from: number } & RegionIx & FileIx)
  | ({ readonly kind: 'ack'; readonly older: boolean; readonly alsoFile: number | null } & RegionIx & FileIx & Delay)
  | ({ readonly kind: 'heartbeat'; readonly status: RegionStatus } & RegionIx & Delay)
  | ({ readonly kind: 'leave' } & RegionIx & Delay)
  | ({ readonly kind: 'rejoin' } & RegionIx & Delay)
  | ({ readonly kind: 'policy'; readonly pattern: number; readonly sync: 'eager' | 'lazy' | 'on_demand' | null; readonly conflict: 'last_writer_wins' | 'merge' | 'manual' | 'fork' | null } & Delay)
  | ({ readonly kind: 'resolve'; readonly pick: number } & Delay)
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array; readonly subject: number }
  | ({ readonly kind: 'halfValid'; readonly variant: number; readonly cut: number } & RegionIx & FileIx & Delay);

export type ScenarioOptions = {
  /** Stream sequence of the i-th message is (i + 1) * seqStep; 2 leaves room to insert a message between any two. */
  readonly seqStep?: number;
  readonly minActions?: number;
  readonly maxActions?: number;
};

export type Scenario = {
  readonly regions: readonly string[];
  /** Each region's clock skew in ms (positive: its clock runs ahead of the stream's). */
  readonly skewMs: readonly number[];
  readonly log: readonly StoredEvent[];
  /** The event each message was built from (null for garbage and half-valid bytes). */
  readonly events: ReadonlyArray<CoordinatorEvent | null>;
};

const delay = fc.integer({ min: 0, max: 3000 });
const regionIx = fc.nat(3);
const fileIx = fc.nat(FILE_POOL.length - 1);

export const statusArb: fc.Arbitrary<RegionStatus> = fc.record({
  state: fc.constantFrom('healthy', 'healthy', 'degraded', 'offline'),
  syncLag: fc.nat(10_000),
  storageUsed: fc.nat(1_000_000_000),
  loadLevel: fc.double({ min: 0, max: 1, noNaN: true }),
});

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('change' as const),
      op: fc.constantFrom('register' as const, 'update' as const, 'update' as const, 'update' as const, 'delete' as const),
      size: fc.nat(1 << 30),
      region: regionIx,
      file: fileIx,
      delayMs: delay,
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('learn' as const), from: fc.nat(4), region: regionIx, file: fileIx }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stale' as const), back: fc.nat(3), region: regionIx, file: fileIx, delayMs: delay }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ack' as const),
      older: fc.boolean(),
      alsoFile: fc.option(fileIx),
      region: regionIx,
      file: fileIx,
      delayMs: delay,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), status: statusArb, region: regionIx, delayMs: delay }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), region: regionIx, delayMs: delay }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rejoin' as const), region: regionIx, delayMs: delay }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('policy' as const),
      pattern: fc.nat(PATTERNS.length - 1),
      sync: fc.constantFrom('eager' as const, 'lazy' as const, 'on_demand' as const, null),
      conflict: fc.constantFrom('last_writer_wins' as const, 'merge' as const, 'manual' as const, 'fork' as const, null),
      delayMs: delay,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resolve' as const), pick: fc.nat(), delayMs: delay }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 48 }), subject: fc.nat(7) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('halfValid' as const),
      variant: fc.nat(7),
      cut: fc.nat(400),
      region: regionIx,
      file: fileIx,
      delayMs: delay,
    }),
  },
);

/** What one region believes about one file. */
type LocalCopy = { clock: VectorClock; deleted: boolean; history: VectorClock[] };

/** Turns actions into a log. Pure and deterministic. */
export const simulate = (
  regions: readonly string[],
  skewMs: readonly number[],
  actions: readonly Action[],
  seqStep = 1,
): Scenario => {
  const log: StoredEvent[] = [];
  const events: Array<CoordinatorEvent | null> = [];
  const local = regions.map(() => new Map<string, LocalCopy>());
  const active = regions.map(() => true);
  /** Merge of every clock published for a file: what the coordinator's clock should be. */
  const published = new Map<string, { clock: VectorClock; deleted: boolean }>();
  const changeIds: string[] = [];
  let counter = 0;

  const nextSeq = (): number => (log.length + 1) * seqStep;
  const storedMs = (seq: number): number => Date.parse(storedAtFor(seq)) - T0_MS;
  /** The region's wall clock when the event was created: store time minus delay, plus its skew. */
  const atFor = (ri: number | null, delayMs: number): string =>
    iso(storedMs(nextSeq()) - delayMs + (ri === null ? 0 : (skewMs[ri] ?? 0)));
  const nextId = (prefix: string): string => `${prefix}-${++counter}`;

  const push = (event: CoordinatorEvent): void => {
    const seq = nextSeq();
    log.push({ seq, subject: subjectFor(event), storedAt: storedAtFor(seq), data: encode(event) });
    events.push(event);
  };
  const pushBytes = (subject: string, data: Uint8Array): void => {
    const seq = nextSeq();
    log.push({ seq, subject, storedAt: storedAtFor(seq), data });
    events.push(null);
  };

  const ix = (n: number): number => n % regions.length;
  const name = (ri: number): string => regions[ri] ?? 'unknown';
  const meta = (fileId: string, size: number, at: string) => ({
    fileId,
    path: `/data/${fileId}`,
    size,
    checksum: `sha256:${size.toString(16)}`,
    modifiedAt: at,
    ...(size % 3 === 0 ? { attributes: { owner: `u${size % 7}` } } : {}),
  });
  const remember = (ri: number, fileId: string, clock: VectorClock, deleted: boolean): void => {
    const copy = local[ri]?.get(fileId);
    const history = copy === undefined ? [] : [...copy.history, copy.clock];
    local[ri]?.set(fileId, { clock, deleted, history });
  };
  const publishChange = (event: ChangeEvent): void => {
    const fileId = event.type === 'file.deleted' ? event.fileId : event.file.fileId;
    published.set(fileId, {
      clock: mergeVectorClocks(published.get(fileId)?.clock ?? {}, event.clock),
      deleted: event.type === 'file.deleted',
    });
    changeIds.push(event.id);
    push(event);
  };
  const register = (ri: number, delayMs: number, prefix: string): void => {
    const r = name(ri);
    push({
      schema: SCHEMA_VERSION,
      id: nextId(`${r}-${prefix}`),
      type: 'region.registered',
      at: atFor(ri, delayMs),
      region: r,
      name: `Region ${r}`,
      endpoint: `${r}.jzse.example:7443`,
      location: { latitude: 10 * ri, longitude: -20 * ri, name: r },
      capacity: { totalBytes: 1_000_000_000_000 },
    });
  };

  regions.forEach((_, ri) => register(ri, 0, 'join'));

  for (const a of actions) {
    switch (a.kind) {
      case 'change': {
        const ri = ix(a.region);
        const r = name(ri);
        const fileId = FILE_POOL[a.file] ?? 'f1';
        const coordinator = published.get(fileId);
        if (local[ri]?.get(fileId) === undefined && a.op !== 'register' && coordinator !== undefined) {
          // A region mostly changes files it has been sent; only sometimes does it race a registration.
          remember(ri, fileId, coordinator.clock, coordinator.deleted);
        }
        const copy = local[ri]?.get(fileId);
        const base = copy?.clock ?? {};
        const clock = { ...base, [r]: (base[r] ?? 0) + 1 };
        const at = atFor(ri, a.delayMs);
        // A region registers what it does not know (or knows deleted), else updates or deletes it.
        const op = copy === undefined || copy.deleted ? 'register' : a.op === 'register' ? 'update' : a.op;
        const id = nextId(`${r}-${op}`);
        if (op === 'delete') {
          publishChange({ schema: SCHEMA_VERSION, id, type: 'file.deleted', at, region: r, fileId, clock });
        } else if (op === 'register') {
          publishChange({
            schema: SCHEMA_VERSION, id, type: 'file.registered', at, region: r, file: meta(fileId, a.size, at), clock,
            ...(a.size % 2 === 0 ? { replicas: 1 + (a.size % 5) } : {}),
          });
        } else {
          publishChange({ schema: SCHEMA_VERSION, id, type: 'file.updated', at, region: r, file: meta(fileId, a.size, at), clock });
        }
        remember(ri, fileId, clock, op === 'delete');
        break;
      }
      case 'stale': {
        // Re-sends a version under a new id (e.g. restored from a backup).
        const ri = ix(a.region);
        const r = name(ri);
        const fileId = FILE_POOL[a.file] ?? 'f1';
        const copy = local[ri]?.get(fileId);
        if (copy === undefined) break;
        // back 0: the current version again under a new id (EQUAL); else an older one (BEFORE).
        const old = a.back === 0 ? copy.clock : copy.history[Math.max(0, copy.history.length - a.back)];
        if (old === undefined) break;
        const at = atFor(ri, a.delayMs);
        publishChange({ schema: SCHEMA_VERSION, id: nextId(`${r}-replay`), type: 'file.updated', at, region: r, file: meta(fileId, 7, at), clock: old });
        break;
      }
      case 'learn': {
        // From the coordinator (from = 4) or another region's copy: the region's copy now dominates both.
        const ri = ix(a.region);
        const fileId = FILE_POOL[a.file] ?? 'f1';
        const source = a.from >= 4 ? published.get(fileId) : local[ix(a.from)]?.get(fileId);
        if (source === undefined) break;
        const mine = local[ri]?.get(fileId);
        const order = mine === undefined ? 'AFTER' : compareVectorClocks(source.clock, mine.clock);
        const deleted = order === 'AFTER' ? source.deleted : order === 'CONCURRENT' ? source.deleted || mine?.deleted === true : mine?.deleted === true;
        if (order !== 'BEFORE' && order !== 'EQUAL') remember(ri, fileId, mergeVectorClocks(mine?.clock ?? {}, source.clock), deleted);
        break;
      }
      case 'ack': {
        const ri = ix(a.region);
        const r = name(ri);
        const ackOne = (fileIndex: number): { fileId: string; clock: VectorClock } | undefined => {
          const fileId: string = FILE_POOL[fileIndex] ?? 'f1';
          const coordinator = published.get(fileId);
          // Acking the current version: the region applied what the coordinator sent it.
          if (!a.older && coordinator !== undefined) remember(ri, fileId, coordinator.clock, coordinator.deleted);
          const copy = local[ri]?.get(fileId);
          if (copy === undefined) return undefined;
          const clock = a.older && copy.history.length > 0 ? (copy.history[copy.history.length - 1] ?? copy.clock) : copy.clock;
          return { fileId, clock };
        };
        const files = [ackOne(a.file), a.alsoFile === null || a.alsoFile === a.file ? undefined : ackOne(a.alsoFile)].filter(
          (f): f is { fileId: string; clock: VectorClock } => f !== undefined,
        );
        if (files.length === 0) break;
        push({ schema: SCHEMA_VERSION, id: nextId(`${r}-ack`), type: 'sync.acked', at: atFor(ri, a.delayMs), region: r, files });
        break;
      }
      case 'heartbeat': {
        const ri = ix(a.region);
        const r = name(ri);
        push({ schema: SCHEMA_VERSION, id: nextId(`${r}-hb`), type: 'region.heartbeat', at: atFor(ri, a.delayMs), region: r, status: a.status });
        break;
      }
      case 'leave': {
        const ri = ix(a.region);
        const r = name(ri);
        if (!active[ri]) break;
        active[ri] = false;
        push({ schema: SCHEMA_VERSION, id: nextId(`${r}-leave`), type: 'region.deregistered', at: atFor(ri, a.delayMs), region: r, reason: 'maintenance' });
        break;
      }
      case 'rejoin': {
        const ri = ix(a.region);
        if (active[ri]) break;
        active[ri] = true;
        register(ri, a.delayMs, 'rejoin');
        break;
      }
      case 'policy': {
        const pattern = PATTERNS[a.pattern] ?? '/data/*';
        push({
          schema: SCHEMA_VERSION, id: nextId('op-policy'), type: 'policy.set', at: atFor(null, a.delayMs), operator: 'ops@jzse',
          pattern, ...(a.sync === null ? {} : { sync: a.sync }), ...(a.conflict === null ? {} : { conflict: a.conflict }),
        });
        break;
      }
      case 'resolve': {
        if (changeIds.length === 0) break;
        const conflictId = changeIds[a.pick % changeIds.length] ?? 'none';
        push({
          schema: SCHEMA_VERSION, id: nextId('op-resolve'), type: 'conflict.resolved', at: atFor(null, a.delayMs), operator: 'ops@jzse',
          conflictId, choice: { keep: a.pick % 2 === 0 ? 'local' : 'remote' },
        });
        break;
      }
      case 'garbage': {
        const r = name(ix(a.subject));
        const subjects = [changesSubject(r), syncAcksSubject(r), regionStatusSubject(r), SYNC_ACKS, REGIONS_STATUS, ADMIN_CONFLICTS, ADMIN_POLICIES,
          apiSubject(changesSubject(r)), 'jzse.admin.other'];
        pushBytes(subjects[a.subject % subjects.length] ?? SYNC_ACKS, a.bytes);
        break;
      }
      case 'halfValid': {
        const ri = ix(a.region);
        const r = name(ri);
        const fileId = FILE_POOL[a.file] ?? 'f1';
        const at = atFor(ri, a.delayMs);
        const id = nextId(`${r}-bad`);
        const valid = {
          schema: SCHEMA_VERSION, id, type: 'file.updated', at, region: r, file: meta(fileId, a.cut, at), clock: { [r]: 1 + (a.cut % 4) },
        } as const;
        const subject = changesSubject(r);
        const variants: Array<[string, unknown]> = [
          [subject, JSON.stringify(valid).slice(0, a.cut % JSON.stringify(valid).length)],
          [subject, { ...valid, file: { ...valid.file, size: -1 - a.cut } }],
          [subject, { ...valid, clock: { [r]: `${a.cut}` } }],
          [subject, { ...valid, at: undefined }],
          [subject, { ...valid, schema: 2 }],
          [subject, { ...valid, type: 'file.renamed' }],
          [REGIONS_STATUS, valid], // a valid change on the wrong subject
          [subject, [valid]],
        ];
        const [subj, body] = variants[a.variant % variants.length] ?? [subject, ''];
        pushBytes(subj, typeof body === 'string' ? new TextEncoder().encode(body) : encode(body));
        break;
      }
    }
  }
  return withSummary({ regions, skewMs, log, events });
};

/** How a scenario prints in a counterexample: one line per message, events as JSON, other bytes as text. */
export const describeLog = (log: readonly StoredEvent[]): string =>
  log
    .map((m) => `  #${m.seq} ${m.subject} @${m.storedAt}: ${new TextDecoder('utf-8', { fatal: false }).decode(m.data).slice(0, 400)}`)
    .join('\n');

const withSummary = (s: Scenario): Scenario =>
  Object.defineProperty(s, fc.toStringMethod, {
    value: () => `Scenario(regions ${s.regions.join(', ')}; skew ${s.skewMs.join(', ')} ms)\n${describeLog(s.log)}\n`,
    enumerable: false,
  });

/** A realistic log for 2–4 regions (see the file comment). */
export const scenarioArb = (opts: ScenarioOptions = {}): fc.Arbitrary<Scenario> =>
  fc
    .record({
      regions: fc.shuffledSubarray([...REGION_POOL], { minLength: 2, maxLength: 4 }),
      skewMs: fc.array(fc.integer({ min: -3000, max: 8000 }), { minLength: 4, maxLength: 4 }),
      actions: fc.array(actionArb, { minLength: opts.minActions ?? 0, maxLength: opts.maxActions ?? 60, size: 'medium' }),
    })
    .map(({ regions, skewMs, actions }) => simulate(regions, skewMs, actions, opts.seqStep ?? 1));

/** Clocks over a few region ids, with zero entries sometimes present (they count as absent). */
export const clockArb = (regionIds: readonly string[] = ['r1', 'r2', 'r3', 'r4']): fc.Arbitrary<VectorClock> =>
  fc.dictionary(fc.constantFrom(...regionIds), fc.nat(4), { maxKeys: regionIds.length });

/** Any bytes at all, JSON-ish text included, on any subject, known or not. */
export const subjectArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('jzse.changes.r1', 'jzse.changes.eu-west', 'jzse.sync.acks.r1', 'jzse.regions.status.r2', 'jzse.api.changes.r1',
    SYNC_ACKS, REGIONS_STATUS, ADMIN_CONFLICTS, ADMIN_POLICIES),
  fc.string({ maxLength: 40 }),
);

export const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.json({ maxDepth: 4 }).map((s) => new TextEncoder().encode(s)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => encode({ schema: SCHEMA_VERSION, type: 'file.updated', id: 'x1', payload: v })),
  fc.string({ unit: 'binary', maxLength: 80 }).map((s) => new TextEncoder().encode(s)),
);
