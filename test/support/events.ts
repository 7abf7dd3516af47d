// Builders for every event type, stored messages, and a Decider-style given/when/then.
// Deterministic: ids are derived from the content, times from fixed instants or the stream sequence.
import assert from 'node:assert/strict';
import { emptyView, type StoredEvent, type View } from '../../projections/view.js';
import { decodeEntry } from '../../projections/entry.js';
import type { Verdict } from '../../projections/decider.js';
import type { Touched } from '../../projections/draft.js';
import type { RejectionCode } from '../../projections/rejection.js';
import { evolveView, fold } from '../../projections/runner.js';
import { checkpointKey, viewEntries } from '../../projections/layout.js';
import {
  SCHEMA_VERSION,
  type ConflictResolved,
  type CoordinatorEvent,
  type FileDeleted,
  type FileMetadata,
  type FileRegistered,
  type FileUpdated,
  type PolicySet,
  type RegionDeregistered,
  type RegionHeartbeat,
  type RegionHealth,
  type SyncRequested,
  type SyncDemanded,
  type RegionRegistered,
  type SyncAcked,
  type VectorClock,
} from '../../streams/events.js';
import { subjectFor } from '../../streams/subjects.js';

/** Every stored time is counted from here: seq n is stored at T0 + n seconds. */
export const T0_MS = Date.parse('2026-01-01T00:00:00.000Z');
/** An RFC 3339 instant `ms` milliseconds after T0 (canonical toISOString form). */
export const iso = (ms: number): string => new Date(T0_MS + ms).toISOString();
/** The default `at` of every built event: T0 itself, i.e. never later than any storedAt. */
export const AT0 = iso(0);
export const storedAtFor = (seq: number): string => iso(seq * 1000);

/** `{a: 1, b: 2}` → `a.1_b.2`, usable inside an event id. */
const clockTag = (clock: VectorClock): string =>
  Object.keys(clock)
    .sort()
    .map((k) => `${k}.${clock[k] ?? 0}`)
    .join('_') || 'none';

const envelope = { schema: SCHEMA_VERSION } as const;

export const fileMeta = (over: Partial<FileMetadata> = {}): FileMetadata => {
  const fileId = over.fileId ?? 'f1';
  return { fileId, path: `/data/${fileId}`, size: 1024, checksum: `sha256:${fileId}`, modifiedAt: AT0, ...over };
};

type FileOver<E> = Partial<Omit<E, 'file'>> & { readonly file?: Partial<FileMetadata> };

export const fileRegistered = (over: FileOver<FileRegistered> = {}): FileRegistered => {
  const region = over.region ?? 'r1';
  const clock = over.clock ?? { [region]: 1 };
  const file = fileMeta(over.file);
  return {
    ...envelope,
    type: 'file.registered',
    id: `reg-${region}-${file.fileId}-${clockTag(clock)}`,
    at: AT0,
    ...over,
    region,
    clock,
    file,
  };
};

export const fileUpdated = (over: FileOver<FileUpdated> = {}): FileUpdated => {
  const region = over.region ?? 'r1';
  const clock = over.clock ?? { [region]: 2 };
  const file = fileMeta(over.file);
  return {
    ...envelope,
    type: 'file.updated',
    id: `upd-${region}-${file.fileId}-${clockTag(clock)}`,
    at: AT0,
    ...over,
    region,
    clock,
    file,
  };
};

export const fileDeleted = (over: Partial<FileDeleted> = {}): FileDeleted => {
  const region = over.region ?? 'r1';
  const clock = over.clock ?? { [region]: 2 };
  const fileId = over.fileId ?? 'f1';
  return { ...envelope, type: 'file.deleted', id: `del-${region}-${fileId}-${clockTag(clock)}`, at: AT0, region, clock, fileId, ...over };
};

export const syncAcked = (over: Partial<SyncAcked> = {}): SyncAcked => {
  const region = over.region ?? 'r2';
  const files = over.files ?? [{ fileId: 'f1', clock: { r1: 1 } }];
  const tag = files.map((f) => `${f.fileId}-${clockTag(f.clock)}`).join('-');
  return { ...envelope, type: 'sync.acked', id: `ack-${region}-${tag}`, at: AT0, region, files, ...over };
};

export const regionRegistered = (over: Partial<RegionRegistered> = {}): RegionRegistered => {
  const region = over.region ?? 'r1';
  return {
    ...envelope,
    type: 'region.registered',
    id: `join-${region}`,
    at: AT0,
    region,
    name: `Region ${region}`,
    endpoint: `${region}.jzse.example:7443`,
    location: { latitude: 48.85, longitude: 2.35, name: region },
    capacity: { totalBytes: 1_000_000_000_000 },
    ...over,
  };
};

export const regionDeregistered = (over: Partial<RegionDeregistered> = {}): RegionDeregistered => {
  const region = over.region ?? 'r1';
  return { ...envelope, type: 'region.deregistered', id: `leave-${region}`, at: AT0, region, ...over };
};

export const regionHeartbeat = (over: Partial<RegionHeartbeat> = {}): RegionHeartbeat => {
  const region = over.region ?? 'r1';
  const at = over.at ?? AT0;
  return {
    ...envelope,
    type: 'region.heartbeat',
    id: `hb-${region}-${at}`,
    at,
    region,
    status: { state: 'healthy', syncLag: 0, storageUsed: 0, loadLevel: 0.1 },
    ...over,
  };
};

export const syncDemanded = (over: Partial<SyncDemanded> = {}): SyncDemanded => {
  const region = over.region ?? 'r2';
  return { ...envelope, type: 'sync.demanded', id: `demand-${region}`, at: AT0, region, fileIds: ['f1'], ...over };
};

export const syncRequested = (over: Partial<SyncRequested> = {}): SyncRequested => {
  const region = over.region ?? 'r2';
  return {
    ...envelope,
    type: 'sync.requested',
    id: `dispatched:${region}:1`,
    at: AT0,
    region,
    observer: 'coordinator-1',
    files: [{ fileId: 'f1', eventId: 'reg-r1-f1-r1.1', attempt: 1 }],
    ...over,
  };
};

export const regionHealth = (over: Partial<RegionHealth> = {}): RegionHealth => {
  const region = over.region ?? 'r1';
  const state = over.state ?? 'offline';
  const lastSeenAt = over.lastSeenAt ?? AT0;
  return {
    ...envelope,
    type: 'region.health',
    id: `health:${region}:${state}:${Date.parse(lastSeenAt)}`,
    at: AT0,
    region,
    state,
    observer: 'coordinator-1',
    lastSeenAt,
    reason: 'no heartbeat',
    ...over,
  };
};

export const conflictResolved = (over: Partial<ConflictResolved> = {}): ConflictResolved => {
  const conflictId = over.conflictId ?? 'c1';
  return {
    ...envelope,
    type: 'conflict.resolved',
    id: `resolve-${conflictId}`,
    at: AT0,
    operator: 'alice',
    conflictId,
    choice: { keep: 'local' },
    ...over,
  };
};

export const policySet = (over: Partial<PolicySet> = {}): PolicySet => {
  const pattern = over.pattern ?? '/data/*';
  return {
    ...envelope,
    type: 'policy.set',
    id: `policy-${pattern.replace(/[^A-Za-z0-9._:-]/g, '_')}`,
    at: AT0,
    operator: 'alice',
    pattern,
    sync: 'lazy',
    conflict: 'last_writer_wins',
    ...over,
  };
};

export const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** `principal`: the message's Jzse-Principal header. */
export type StoredOptions = { readonly subject?: string; readonly storedAt?: string; readonly principal?: string };

/** A message as JetStream stores it. Raw bytes go on `opts.subject` (default: region r1's change subject). */
export const stored = (seq: number, payload: CoordinatorEvent | Uint8Array, opts: StoredOptions = {}): StoredEvent => {
  const isBytes = payload instanceof Uint8Array;
  return {
    seq,
    subject: opts.subject ?? (isBytes ? 'jzse.changes.r1' : subjectFor(payload)),
    storedAt: opts.storedAt ?? storedAtFor(seq),
    data: isBytes ? payload : encode(payload),
    ...(opts.principal === undefined ? {} : { principalHeader: opts.principal }),
  };
};

const isStored = (x: CoordinatorEvent | StoredEvent): x is StoredEvent => 'data' in x && 'seq' in x;

/** Numbers events 1, 2, … (stored messages are kept as they are). */
export const storedLog = (items: ReadonlyArray<CoordinatorEvent | StoredEvent>, firstSeq = 1): StoredEvent[] =>
  items.map((item, i) => (isStored(item) ? item : stored(firstSeq + i, item)));

/** Stored messages folded as the projector folds them: decoded once, then the runner. */
export const foldStored = (view: View, msgs: Iterable<StoredEvent>): View => {
  const entries = (function* () {
    for (const m of msgs) yield decodeEntry(m);
  })();
  return fold(view, entries);
};

export type Step = { readonly view: View; readonly touched: readonly Touched[]; readonly event: CoordinatorEvent | null; readonly verdict: Verdict | null };

/** One stored message through the runner. */
export const stepStored = (view: View, msg: StoredEvent): Step => {
  const r = evolveView(view, decodeEntry(msg));
  return { view: r.view, touched: r.touched, event: r.verdict?.event ?? null, verdict: r.verdict };
};

export const foldEvents = (...items: Array<CoordinatorEvent | StoredEvent>): View => foldStored(emptyView(), storedLog(items));

export type Outcome = Step & { readonly before: View; readonly msg: StoredEvent };

/**
 * given(past...).when(event).then((view, outcome) => assertions).
 * `when` takes an event (stored at the next sequence) or a StoredEvent (stored as given).
 */
export const given = (...past: Array<CoordinatorEvent | StoredEvent>) => {
  const before = foldEvents(...past);
  return {
    when: (input: CoordinatorEvent | StoredEvent) => {
      const msg = isStored(input) ? input : stored(before.seq + 1, input);
      const outcome: Outcome = { ...stepStored(before, msg), before, msg };
      return {
        then: (expect: (view: View, outcome: Outcome) => void): Outcome => {
          expect(outcome.view, outcome);
          return outcome;
        },
        /** The decider refused it with this code, naming this field; the view records it and nothing else. */
        thenRejects: (code: RejectionCode, field: string | RegExp): Outcome => {
          const r = outcome.verdict?.rejection;
          assert.ok(r, `expected a rejection ${code}, got decision ${JSON.stringify(outcome.verdict?.decision)}`);
          assert.equal(r.code, code, `rejection ${JSON.stringify(r)}`);
          if (typeof field === 'string') assert.equal(r.field, field);
          else assert.match(r.field, field);
          // Under its id, even one salvaged from a message that did not decode.
          assert.equal([...outcome.view.rejected.values()].find((e) => e.seq === msg.seq)?.code, code);
          return outcome;
        },
        /** The decider accepted it with this decision (applied, conflict, no_op, duplicate, acked). */
        thenDecides: (kind: string, expect?: (view: View, outcome: Outcome) => void): Outcome => {
          assert.equal(outcome.verdict?.rejection ?? null, null, `unexpected rejection ${JSON.stringify(outcome.verdict?.rejection)}`);
          assert.equal(outcome.verdict?.decision?.kind, kind);
          expect?.(outcome.view, outcome);
          return outcome;
        },
      };
    },
    then: (expect: (view: View) => void): View => {
      expect(before);
      return before;
    },
  };
};

/** The reason an event id (or `seq-N` for an id-less message) was rejected, if it was. */
export const rejectionOf = (view: View, key: string): string | undefined => view.rejected.get(key)?.reason;

const PREFIX = 'view';
const recordsOf = (view: View): Map<string, string> => {
  const entries = viewEntries(PREFIX, view);
  entries.delete(checkpointKey(PREFIX));
  return entries;
};

/** The records (etcd keys, checkpoint excluded) that differ between two views, with both values. */
export const changedRecords = (before: View, after: View): Array<{ key: string; before?: string; after?: string }> => {
  const a = recordsOf(before);
  const b = recordsOf(after);
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((k) => a.get(k) !== b.get(k))
    .sort()
    .map((key) => ({ key: key.slice(PREFIX.length + 1), before: a.get(key), after: b.get(key) }));
};
