// Bytes from the wire → a typed event, or a reason that names the field. Used by the projector
// (a failure becomes a rejected entry) and by every write path before anything is appended.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { SCHEMA_VERSION, entryArrays, eventCodecs, isEventType, type CoordinatorEvent, type EventType, type InvalidEntry, type MultiEntryType } from './events.js';
import { unknownFields } from './fields.js';
import { isValidId } from './ids.js';
import { decodeFast } from './fastDecode.js';
import { subjectProblem } from './subjects.js';

export const MAX_EVENT_BYTES = 256 * 1024;

const show = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    // Nesting deep enough to overflow the stack: describe it instead of printing it.
    text = Array.isArray(value) ? 'a deeply nested array' : `a deeply nested ${typeof value}`;
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

// Intersections and unions also number their members; only array indexes belong in a field path.
const isArrayCodec = (codec: unknown): boolean => {
  const tagged = codec as { _tag?: string; type?: unknown } | undefined;
  if (tagged?._tag === 'ArrayType' || tagged?._tag === 'ReadonlyArrayType') return true;
  return tagged?._tag === 'RefinementType' && isArrayCodec(tagged.type);
};

/** One line per failing field: `file.size: expected non-negative integer, got -1`. */
export const describeErrors = (errors: t.Errors): string => {
  const lines = new Set<string>();
  for (const error of errors) {
    const path = error.context
      .filter((c, i) => c.key !== '' && (!/^\d+$/.test(c.key) || isArrayCodec(error.context[i - 1]?.type)))
      .map((c) => (/^[A-Za-z0-9_:-]+$/.test(c.key) ? `.${c.key}` : `[${JSON.stringify(c.key.slice(0, 40))}]`))
      .join('')
      .replace(/^\./, '');
    const last = error.context[error.context.length - 1];
    const expected = last?.type.name ?? 'a valid value';
    lines.add(`${path === '' ? '(event)' : path}: expected ${expected}, got ${show(error.value)}`);
    if (lines.size >= 5) break;
  }
  return [...lines].join('; ');
};

// Stateless between calls (no `stream` option): one decoder serves every message.
const utf8 = new TextDecoder('utf-8', { fatal: true });

const parseJson = (bytes: Uint8Array): E.Either<string, unknown> => {
  if (bytes.byteLength > MAX_EVENT_BYTES) return E.left(`event is ${bytes.byteLength} bytes, more than ${MAX_EVENT_BYTES}`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return E.left('event is not valid UTF-8');
  }
  try {
    return E.right(JSON.parse(text));
  } catch (error) {
    return E.left(`event is not valid JSON: ${(error as Error).message}`);
  }
};

/** Decodes an already parsed value into an event, dispatching on `type`. */
export const decodeValue = (value: unknown): E.Either<string, CoordinatorEvent> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return E.left(`(event): expected a JSON object, got ${show(value)}`);
  }
  const record = value as Record<string, unknown>;
  if (record['schema'] !== SCHEMA_VERSION) {
    return E.left(`schema: expected ${SCHEMA_VERSION}, got ${show(record['schema'])}`);
  }
  const type = record['type'];
  if (!isEventType(type)) {
    return E.left(`type: expected one of ${Object.keys(eventCodecs).join(', ')}, got ${show(type)}`);
  }
  const fast = decodeFast(type, record);
  if (fast !== undefined) return E.right(fast);
  return decodeSlow(type, record);
};

/**
 * The reference decoder (decodeFast only takes a shortcut through it): the type's io-ts codec, and
 * no field it does not name (rule 10). At most five reasons, the codec's first.
 */
export const decodeSlow = (type: EventType, value: Record<string, unknown>): E.Either<string, CoordinatorEvent> => {
  const codec = eventCodecs[type] as t.Decoder<unknown, CoordinatorEvent>;
  const decoded = codec.decode(value);
  const unknown = unknownFields(codec, value, type);
  if (unknown.length === 0) return pipe(decoded, E.mapLeft(describeErrors));
  const errors = E.isLeft(decoded) ? describeErrors(decoded.left).split('; ') : [];
  return E.left([...errors, ...unknown].slice(0, 5).join('; '));
};

const isMultiEntry = (type: unknown): type is MultiEntryType =>
  typeof type === 'string' && Object.prototype.hasOwnProperty.call(entryArrays, type);

/**
 * Rule 7: an event of independent entries whose only problems are in some entries is applied for
 * the others. Each entry is decoded alone (its errors named `files.<i>.…`); the event is decoded
 * again with the good ones, which checks everything else. Undefined when that does not apply: no
 * bad entry, no good one, bounds broken, or a problem outside the entries.
 */
const withoutInvalidEntries = (record: Record<string, unknown>): CoordinatorEvent | undefined => {
  const type = record['type'];
  if (!isMultiEntry(type)) return undefined;
  const { field, array, entry, min, max } = entryArrays[type];
  const entries = record[field];
  if (!Array.isArray(entries) || entries.length < min || entries.length > max) return undefined;
  const root: t.Context = [{ key: '', type: eventCodecs[type], actual: record }];
  const inArray = t.appendContext(root, field, array, entries);
  const good: unknown[] = [];
  const invalid: InvalidEntry[] = [];
  entries.forEach((item: unknown, index) => {
    const one = (entry as t.Decoder<unknown, unknown>).validate(item, t.appendContext(inArray, String(index), entry, item));
    const unknown = unknownFields(entry, item, type, [field, String(index)]);
    if (E.isRight(one) && unknown.length === 0) good.push(item);
    else invalid.push({ index, reason: [...(E.isLeft(one) ? describeErrors(one.left).split('; ') : []), ...unknown].slice(0, 5).join('; ') });
  });
  if (invalid.length === 0 || good.length === 0) return undefined;
  const rest = decodeValue({ ...record, [field]: good });
  return E.isRight(rest) ? ({ ...rest.right, invalidEntries: invalid } as CoordinatorEvent) : undefined;
};

/**
 * Decodes a stored message and checks it arrived on a subject its type may use (subjectProblem). Unlike
 * decodeValue (what a writer may send), an event of independent entries with some undecodable
 * ones decodes to the others, listed in `invalidEntries`: the fold rejects each of those alone.
 */
export const decodeEvent = (subject: string, bytes: Uint8Array): E.Either<string, CoordinatorEvent> => {
  // Straight-line rather than pipe/chain: this runs once per event of every replay.
  const parsed = parseJson(bytes);
  if (E.isLeft(parsed)) return parsed;
  let decoded = decodeValue(parsed.right);
  if (E.isLeft(decoded) && typeof parsed.right === 'object' && parsed.right !== null && !Array.isArray(parsed.right)) {
    const salvaged = withoutInvalidEntries(parsed.right as Record<string, unknown>);
    if (salvaged !== undefined) decoded = E.right(salvaged);
  }
  if (E.isLeft(decoded)) return decoded;
  const problem = subjectProblem(decoded.right, subject);
  return problem === undefined ? decoded : E.left(problem);
};

/**
 * The id of an event that failed to decode, so its rejection is kept (and found) under it: read
 * whenever the bytes are UTF-8 JSON, oversized ones included (the stream bounds them by the
 * server's max_payload), and only if it obeys the id rule.
 */
export const salvageId = (bytes: Uint8Array): string | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const id = (value as Record<string, unknown>)['id'];
  return isValidId(id) ? id : undefined;
};
