// Reading the stream back: the projector's live feed and full replays both map messages through
// storedEventOf, so a replay folds exactly what the projector folded.
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { decodeEntry } from '../../projections/entry.js';
import type { LogEntry, StoredEvent } from '../../projections/view.js';
import { PRINCIPAL_HEADER } from '../../streams/principal.js';
import { regionOfSubject } from '../../streams/subjects.js';

const NS_PER_MS = 1e6;
// Far enough from a millisecond boundary that the parsed double's error cannot cross it (below 2^63 ns,
// i.e. any int64 store time, a double is off by at most 1,024 ns; today by at most 128).
const MARGIN_NS = 4096;

/**
 * Store time in whole milliseconds. nats.js's `info.timestampNanos` is already parsed, but as a
 * double it is off by a few hundred ns; when that could change the millisecond, the exact BigInt
 * (a second parse of the reply subject) decides. Same value as `m.timestampNanos / 1_000_000n`.
 */
export const storedMillis = (approxNanos: number, exactNanos: () => bigint): number => {
  const within = approxNanos % NS_PER_MS;
  return within > MARGIN_NS && within < NS_PER_MS - MARGIN_NS
    ? Math.floor(approxNanos / NS_PER_MS)
    : Number(exactNanos() / 1_000_000n);
};

// Messages stored in the same millisecond (dozens, at full publish rate) share one string.
let lastMs = Number.NaN;
let lastIso = '';
const isoOf = (ms: number): string => {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};

/**
 * The Jzse-Principal header, where the fold trusts it: on a region's own subject the subject says
 * who, so its headers are not even parsed (the bulk of the log, spared the cost).
 */
const principalHeaderOf = (m: JsMsg): string | undefined =>
  regionOfSubject(m.subject) === undefined ? m.headers?.get(PRINCIPAL_HEADER) || undefined : undefined;

export const storedEventOf = (m: JsMsg): StoredEvent => {
  const info = m.info;
  const principalHeader = principalHeaderOf(m);
  return {
    seq: info.streamSequence,
    subject: m.subject,
    storedAt: isoOf(storedMillis(info.timestampNanos, () => m.timestampNanos)),
    data: m.data,
    ...(principalHeader === undefined ? {} : { principalHeader }),
  };
};

export const lastSequence = async (jsm: JetStreamManager, stream: string): Promise<number> =>
  (await jsm.streams.info(stream)).state.last_seq;

export const orderedConsumerFrom = (js: JetStreamClient, stream: string, fromSeq: number) =>
  js.consumers.get(
    stream,
    fromSeq <= 1
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq },
  );

/** Batches of stored events from `fromSeq` through `toSeq` (default: the last sequence now). */
export async function* readStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  { fromSeq = 1, toSeq, batch = 10_000 }: { fromSeq?: number; toSeq?: number; batch?: number } = {},
): AsyncGenerator<StoredEvent[]> {
  const last = toSeq ?? (await lastSequence(jsm, stream));
  if (last < fromSeq) return;
  const consumer = await orderedConsumerFrom(js, stream, fromSeq);
  let seen = fromSeq - 1;
  while (seen < last) {
    const out: StoredEvent[] = [];
    const messages = await consumer.fetch({ max_messages: Math.min(batch, last - seen), expires: 5000 });
    for await (const m of messages) {
      const e = storedEventOf(m);
      if (e.seq > last) break;
      out.push(e);
      seen = e.seq;
    }
    if (out.length > 0) yield out;
  }
  await consumer.delete().catch(() => undefined);
}

/** A message decoded once, here at the reader: what every fold takes. */
export const entryOfMessage = (m: JsMsg): LogEntry => decodeEntry(storedEventOf(m));

/** `readStream`, decoded. */
export async function* readEntries(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  options: { fromSeq?: number; toSeq?: number; batch?: number } = {},
): AsyncGenerator<LogEntry[]> {
  for await (const batch of readStream(js, jsm, stream, options)) yield batch.map(decodeEntry);
}
