// Conflict notices on jzse.conflicts (stream JZSE_SYNC): one per detection and per resolution,
// sent after the batch that recorded it is committed. The id names the conflict and its state, so
// a new leader re-sending after a crash stores nothing twice within the duplicate window.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Touched } from '../../projections/draft.js';
import type { ConflictRecord, View } from '../../projections/view.js';
import { derivedId } from '../../streams/ids.js';
import { CONFLICTS } from '../../streams/subjects.js';
import type { Logger } from '../observability/log.js';

export type ConflictNotice = { readonly schema: 1; readonly id: string; readonly conflict: ConflictRecord };

export const noticeId = (c: ConflictRecord): string => derivedId('conflict', c.id, c.status, c.resolution?.eventId ?? 'detected');

export const publishConflictNotices = (js: JetStreamClient, view: View, touched: readonly Touched[], log: Logger): void => {
  for (const t of touched) {
    if (t.collection !== 'conflicts') continue;
    const conflict = view.conflicts.get(t.key);
    if (conflict === undefined) continue;
    const notice: ConflictNotice = { schema: 1, id: noticeId(conflict), conflict };
    js.publish(CONFLICTS, new TextEncoder().encode(JSON.stringify(notice)), { msgID: notice.id }).then(
      (ack) => log.debug({ noticeId: notice.id, fileId: conflict.fileId, outboundSeq: ack.seq }, 'conflict notice sent'),
      (error: unknown) => log.warn({ noticeId: notice.id, err: error }, 'conflict notice not sent; ListConflicts still has it'),
    );
  }
};
