// Bytes become an event once, where a message is read; everything after works on the typed value.
import * as E from 'fp-ts/lib/Either.js';
import { decodeEvent, salvageId } from '../streams/decode.js';
import type { CoordinatorEvent } from '../streams/events.js';
import { provenPrincipal } from '../streams/principal.js';
import type { LogEntry, StoredEvent } from './view.js';

export const decodeEntry = (msg: StoredEvent): LogEntry => {
  const decoded = decodeEvent(msg.subject, msg.data);
  const principal = provenPrincipal(msg.subject, msg.principalHeader);
  return E.isRight(decoded)
    ? { seq: msg.seq, subject: msg.subject, storedAt: msg.storedAt, principal, event: decoded.right }
    : { seq: msg.seq, subject: msg.subject, storedAt: msg.storedAt, principal, event: null, eventId: salvageId(msg.data), error: decoded.left };
};

/** An event as the fold would see it if stored at `seq` now (the API's early decision). */
export const entryOf = (event: CoordinatorEvent, subject: string, seq: number, storedAt: string, principalHeader?: string): LogEntry =>
  ({ seq, subject, storedAt, principal: provenPrincipal(subject, principalHeader), event });
