// The files aggregate: registrations, updates and deletes, ordered by vector clocks. A CONCURRENT
// change is a conflict, settled by the path's strategy (conflicts.ts).
import * as E from 'fp-ts/lib/Either.js';
import type { ChangeEvent, VectorClock } from '../streams/events.js';
import { APPLIED, CONFLICT, DUPLICATE, NO_OP, type Decision } from './decision.js';
import { effectiveAt, put, remember, type Draft } from './draft.js';
import { resolveConcurrent } from './conflicts.js';
import { notRegisteredRegion, rejection, type Rejection } from './rejection.js';
import { compareVectorClocks, counterOf, normalizeClock } from './vectorClock.js';
import { applied, DEFAULT_REPLICAS, install, snapshotOfEvent } from './versions.js';
import type { LogEntry, View } from './view.js';

const showClock = (c: VectorClock): string => JSON.stringify(normalizeClock(c));

export const changedFileId = (event: ChangeEvent): string => (event.type === 'file.deleted' ? event.fileId : event.file.fileId);

export const decideChange = (view: View, event: ChangeEvent): E.Either<Rejection, Decision> => {
  const fileId = changedFileId(event);
  const current = view.files.get(fileId);
  if (current?.recentEventIds.includes(event.id)) return E.right(DUPLICATE);
  const region = view.regions.get(event.region);
  if (region === undefined || !region.active) return E.left(notRegisteredRegion(event.region));
  if (counterOf(event.clock, event.region) < 1) {
    return E.left(rejection('invalid', `clock.${event.region}`, "the origin region's counter must be >= 1 on its own change"));
  }
  const clock = normalizeClock(event.clock);
  if (event.type === 'file.registered') {
    if (current === undefined) return E.right(APPLIED);
    if (!current.deleted) return E.left(rejection('already_exists', 'file.fileId', `${fileId} is already registered`));
    return compareVectorClocks(clock, current.clock) === 'AFTER'
      ? E.right(APPLIED)
      : E.left(rejection('stale', 'clock',
        `${showClock(clock)} is not after the clock of ${fileId}'s delete ${showClock(current.clock)}; a deleted file is registered again with a clock after it`));
  }
  if (current === undefined) return E.left(rejection('not_found', 'fileId', `${fileId} is not registered`));
  switch (compareVectorClocks(clock, current.clock)) {
    case 'EQUAL':
      return E.right(NO_OP);
    case 'BEFORE':
      return E.left(rejection('stale', 'clock', `${showClock(clock)} is before the file's current clock ${showClock(current.clock)} (stale write)`));
    case 'AFTER':
      return E.right(APPLIED);
    case 'CONCURRENT':
      return E.right(CONFLICT);
  }
};

export const evolveChange = (d: Draft, entry: LogEntry, event: ChangeEvent, decision: Decision): Draft => {
  const fileId = changedFileId(event);
  const current = d.view.files.get(fileId);
  const at = effectiveAt(event.at, entry.storedAt);
  switch (decision.kind) {
    case 'no_op':
      // Nothing to apply, but the id is remembered so a late duplicate of it stays a no-op.
      return current === undefined ? d : put(d, 'files', fileId, { ...current, recentEventIds: remember(current.recentEventIds, event.id) });
    case 'conflict':
      return current === undefined ? d : resolveConcurrent(d, entry, current, event, at);
    case 'applied':
      // A registration starts afresh; an update that dominates a delete brings the file back: the writer saw the delete.
      return install(d, entry, current, event.type === 'file.registered'
        ? applied(snapshotOfEvent(event, entry.seq, at, current), event.replicas ?? DEFAULT_REPLICAS)
        : applied(snapshotOfEvent(event, entry.seq, at, current)), event.id);
    default:
      return d;
  }
};
