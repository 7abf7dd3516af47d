// A hand-written validator for the events that make up almost all of the log (file changes and
// acks), tried before io-ts because io-ts costs more than the rest of a fold step. io-ts stays the
// source of truth: this accepts only inputs io-ts accepts, returns exactly io-ts's value (same keys,
// same order), and answers `undefined` for anything else, which then goes to io-ts and gets its
// error messages. test/unit/fastDecode.test.ts checks the two against each other.
import type { CoordinatorEvent, EventType, FileMetadata, SyncAcked, VectorClock } from './events.js';
import { isSimpleInstant as isInstant } from './instant.js';

type Obj = Record<string, unknown>;

const ID = /^[A-Za-z0-9._:-]+$/;
const REGION_ID = /^[a-z0-9_-]+$/;

// Plain objects only: anything unusual (class instances, a "__proto__" key) is io-ts's to judge.
const isPlain = (u: unknown): u is Obj =>
  typeof u === 'object' && u !== null && Object.getPrototypeOf(u) === Object.prototype;

const isId = (u: unknown): u is string => typeof u === 'string' && u.length >= 1 && u.length <= 128 && ID.test(u);
const isRegionId = (u: unknown): u is string => typeof u === 'string' && u.length >= 1 && u.length <= 64 && REGION_ID.test(u);
const isText = (u: unknown, min: number, max: number): u is string => typeof u === 'string' && u.length >= min && u.length <= max;
const isCount = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0;

/** io-ts's checkedRecord builds a fresh object in the input's key order. */
const stringMap = <V>(u: unknown, maxKeys: number, key: (k: string) => boolean, value: (v: unknown) => v is V): Record<string, V> | undefined => {
  if (!isPlain(u)) return undefined;
  const keys = Object.keys(u);
  if (keys.length > maxKeys) return undefined;
  const out: Record<string, V> = {};
  for (const k of keys) {
    const v = u[k];
    if (k === '__proto__' || !key(k) || !value(v)) return undefined;
    out[k] = v;
  }
  return out;
};

const clockOf = (u: unknown): VectorClock | undefined => stringMap(u, 256, isRegionId, isCount);
const attributesOf = (u: unknown): Record<string, string> | undefined =>
  stringMap(u, 128, (k) => k.length <= 256, (v): v is string => isText(v, 0, 4096));

const FILE_FIELDS = new Set(['fileId', 'path', 'size', 'checksum', 'modifiedAt', 'attributes']);

/** io-ts's intersection of two exact types: the required fields in input order, then `attributes`. */
const fileOf = (u: unknown): FileMetadata | undefined => {
  if (!isPlain(u)) return undefined;
  const { fileId, path, size, checksum, modifiedAt } = u;
  if (!isId(fileId) || !isText(path, 1, 4096) || !isCount(size) || !isText(checksum, 0, 256) || !isInstant(modifiedAt)) return undefined;
  const out: Obj = {};
  let attributes: Record<string, string> | undefined;
  for (const k of Object.keys(u)) {
    if (!FILE_FIELDS.has(k)) return undefined;
    if (k !== 'attributes') out[k] = u[k];
    else if ((attributes = attributesOf(u[k])) === undefined) return undefined;
  }
  if (attributes !== undefined) out['attributes'] = attributes;
  return out as FileMetadata;
};

const ackedOf = (u: unknown): SyncAcked['files'] | undefined => {
  if (!Array.isArray(u) || u.length < 1 || u.length > 1000) return undefined;
  const out: Array<SyncAcked['files'][number]> = [];
  for (const item of u as unknown[]) {
    if (!isPlain(item) || !isId(item['fileId'])) return undefined;
    const keys = Object.keys(item);
    if (keys.length !== 2) return undefined;
    const clock = clockOf(item['clock']);
    if (clock === undefined) return undefined;
    out.push(keys[0] === 'fileId' ? { fileId: item['fileId'], clock } : { clock, fileId: item['fileId'] });
  }
  return out;
};

type Field = (u: unknown) => unknown;
/** Field name → its check; `true` marks a required field. A Map, so "constructor" is just an unknown key. */
type Shape = ReadonlyMap<string, readonly [Field, boolean]>;

const same = (ok: (u: unknown) => boolean): Field => (u) => (ok(u) ? u : undefined);
const shape = (required: Record<string, Field>, optional: Record<string, Field> = {}): Shape => new Map([
  ...Object.entries({ schema: same((u) => u === 1), id: same(isId), type: same((u) => typeof u === 'string'), at: same(isInstant), region: same(isRegionId), ...required })
    .map(([k, f]): [string, readonly [Field, boolean]] => [k, [f, true]]),
  ...Object.entries(optional).map(([k, f]): [string, readonly [Field, boolean]] => [k, [f, false]]),
]);
const requiredCount = (s: Shape): number => [...s.values()].filter(([, r]) => r).length;

const SHAPES: ReadonlyMap<EventType, Shape> = new Map<EventType, Shape>([
  ['file.registered', shape({ file: fileOf, clock: clockOf }, { replicas: same((u) => isCount(u) && u >= 1) })],
  ['file.updated', shape({ file: fileOf, clock: clockOf })],
  ['file.deleted', shape({ fileId: same(isId), clock: clockOf })],
  ['sync.acked', shape({ files: ackedOf })],
]);
const REQUIRED = new Map([...SHAPES].map(([type, s]) => [type, requiredCount(s)]));

/**
 * The decoded event, or undefined when this validator does not vouch for the input (invalid, or
 * merely unusual: unknown fields, other time formats). `type` has already been checked.
 */
export const decodeFast = (type: EventType, value: Obj): CoordinatorEvent | undefined => {
  const fields = SHAPES.get(type);
  if (fields === undefined || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const out: Obj = {};
  let required = 0;
  for (const k of Object.keys(value)) {
    const field = fields.get(k);
    if (field === undefined) return undefined;
    const v = field[0](value[k]);
    if (v === undefined) return undefined;
    out[k] = v;
    if (field[1]) required += 1;
  }
  return required === REQUIRED.get(type) ? (out as CoordinatorEvent) : undefined;
};
