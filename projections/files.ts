// Registrations, updates and deletes of files, ordered by vector clocks. A CONCURRENT change is a
// conflict, settled by the path's strategy (projections/conflicts.ts).
import type { ChangeEvent, VectorClock } from '../streams/events.js';
import { effectiveAt, put, reject, remember, type Draft } from './draft.js';
import { resolveConcurrent } from './conflicts.js';
import { compareVectorClocks, counterOf, normalizeClock } from './vectorClock.js';
import { applied, DEFAULT_REPLICAS, install, snapshotOfEvent } from './versions.js';
import type { StoredEvent } from './view.js';

const showClock = (c: VectorClock): string => JSON.stringify(normalizeClock(c));

export const applyChange = (d: Draft, msg: StoredEvent, event: ChangeEvent): Draft => {
  const fileId = event.type === 'file.deleted' ? event.fileId : event.file.fileId;
  const current = d.view.files.get(fileId);
  if (current?.recentEventIds.includes(event.id)) return d;
  const region = d.view.regions.get(event.region);
  if (region === undefined || !region.active) {
    return reject(d, msg, event.id, event.type, `region: ${event.region} is not a registered region`);
  }
  if (counterOf(event.clock, event.region) < 1) {
    return reject(d, msg, event.id, event.type, `clock.${event.region}: the origin region's counter must be >= 1 on its own change`);
  }
  const at = effectiveAt(event.at, msg.storedAt);
  const clock = normalizeClock(event.clock);

  if (event.type === 'file.registered') {
    const reborn = current?.deleted === true && compareVectorClocks(clock, current.clock) === 'AFTER';
    if (current !== undefined && !reborn) {
      return reject(d, msg, event.id, event.type, `file.fileId: ${fileId} is already registered`);
    }
    return install(d, msg, current, applied(snapshotOfEvent(event, msg.seq, at, current), event.replicas ?? DEFAULT_REPLICAS), event.id);
  }
  if (current === undefined) {
    return reject(d, msg, event.id, event.type, `fileId: ${fileId} is not registered`);
  }
  switch (compareVectorClocks(clock, current.clock)) {
    case 'EQUAL':
      // Nothing to apply, but the id is remembered so a late duplicate of it stays a no-op.
      return put(d, 'files', fileId, { ...current, recentEventIds: remember(current.recentEventIds, event.id) });
    case 'BEFORE':
      return reject(d, msg, event.id, event.type,
        `clock: ${showClock(clock)} is before the file's current clock ${showClock(current.clock)} (stale write)`);
    case 'AFTER':
      // An update that dominates a delete brings the file back: the writer saw the delete.
      return install(d, msg, current, applied(snapshotOfEvent(event, msg.seq, at, current)), event.id);
    case 'CONCURRENT':
      return resolveConcurrent(d, msg, current, event, at);
  }
};
