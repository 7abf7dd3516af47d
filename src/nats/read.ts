// Reading the stream back: the projector's live feed and full replays both map messages through
// storedEventOf, so a replay folds exactly what the projector folded.
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { StoredEvent } from '../../projections/view.js';

export const storedEventOf = (m: JsMsg): StoredEvent => ({
  seq: m.info.streamSequence,
  subject: m.subject,
  storedAt: new Date(Number(m.timestampNanos / 1_000_000n)).toISOString(),
  data: m.data,
});

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
