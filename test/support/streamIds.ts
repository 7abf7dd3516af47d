// What regions stored in the stream, by event id, leaving out what the coordinator appends itself
// (sync request records, health verdicts, the configured default policy).
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent } from '../../streams/decode.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import { readStream } from '../../src/nats/read.js';
import type { Stack } from './stack.js';

export const isCoordinatorAuthored = (e: CoordinatorEvent): boolean =>
  e.type === 'sync.requested' || e.type === 'region.health' || (e.type === 'policy.set' && e.operator.startsWith('config:'));

/** Event id → how many times it is stored, for events regions (or tests) published. */
export const publishedIds = async (stack: Stack): Promise<Map<string, number>> => {
  const counts = new Map<string, number>();
  for await (const batch of readStream(stack.client.js, stack.client.jsm, stack.config.nats.stream)) {
    for (const m of batch) {
      const e = decodeEvent(m.subject, m.data);
      if (E.isRight(e) && !isCoordinatorAuthored(e.right)) counts.set(e.right.id, (counts.get(e.right.id) ?? 0) + 1);
    }
  }
  return counts;
};
