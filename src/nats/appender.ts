// Appends events to the stream. The event id is the Nats-Msg-Id, so a retried publish is stored
// once; the caller gets the stream sequence only after JetStream has stored the event.
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { PRINCIPAL_HEADER } from '../../streams/principal.js';
import type { CoordinatorEvent } from '../../streams/events.js';
import { subjectFor } from '../../streams/subjects.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { delay } from '../util/waitFor.js';

export type Appended = { readonly seq: number; readonly duplicate: boolean; readonly stream: string };

export type AppenderOptions = { readonly stream: string; readonly deadlineMs?: number };

const principalHeaders = (principal: string): MsgHdrs => {
  const h = natsHeaders();
  h.set(PRINCIPAL_HEADER, principal);
  return h;
};

export const createAppender = (js: JetStreamClient, options: AppenderOptions, log: Logger, metrics?: Metrics) => {
  const deadlineMs = options.deadlineMs ?? 10_000;

  /**
   * Retries until stored or the deadline passes; rejects if JetStream never acknowledged.
   * `principal`: who the coordinator proved published it, sent as the Jzse-Principal header.
   */
  const appendBytes = async (subject: string, data: Uint8Array, msgID: string, type = 'raw', until?: number, principal?: string): Promise<Appended> => {
    const deadline = Math.min(until ?? Infinity, Date.now() + deadlineMs);
    const headers = principal === undefined ? undefined : principalHeaders(principal);
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await js.publish(subject, data, {
          msgID,
          ...(headers === undefined ? {} : { headers }),
          expect: { streamName: options.stream },
          // Short attempts: a retry carries the same Nats-Msg-Id, so retrying early never stores twice.
          timeout: Math.max(100, Math.min(2000, deadline - Date.now())),
        });
        metrics?.eventsAppended.inc({ type, duplicate: String(ack.duplicate) });
        log.debug({ eventId: msgID, seq: ack.seq, duplicate: ack.duplicate }, 'event appended');
        return { seq: ack.seq, duplicate: ack.duplicate, stream: ack.stream };
      } catch (error) {
        if (Date.now() >= deadline) {
          metrics?.appendErrors.inc();
          log.error({ eventId: msgID, err: error, attempt }, 'append failed: not stored');
          throw error;
        }
        await delay(Math.min(1000, 50 * 2 ** Math.min(attempt, 5)));
      }
    }
  };

  /** `until`: give up at this time (ms since epoch) even if the appender's own deadline is later. */
  const append = (event: CoordinatorEvent, until?: number, principal?: string): Promise<Appended> =>
    appendBytes(subjectFor(event), new TextEncoder().encode(JSON.stringify(event)), event.id, event.type, until, principal);

  return { append, appendBytes };
};

export type Appender = ReturnType<typeof createAppender>;
