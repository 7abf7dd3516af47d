// The subject layout and the proven principal (docs/events.md, "Subjects" and "Who published it"):
// which subjects the fold accepts each event on, what it says when a region publishes for another
// region or forges a coordinator's verdict, and who the log says published each message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeEntry, entryOf } from '../../projections/entry.js';
import { eventCodecs, type CoordinatorEvent, type EventType } from '../../streams/events.js';
import {
  INPUT_SUBJECTS, acceptedSubjects, apiSubjectFor, legacySubjectFor, regionOfSubject, subjectFor,
} from '../../streams/subjects.js';
import { PRINCIPAL_HEADER } from '../../streams/principal.js';
import {
  conflictResolved, encode, fileRegistered, fileUpdated, given, iso, policySet, regionDeregistered, regionHealth, regionHeartbeat,
  regionRegistered, stored, syncAcked, syncDemanded, syncRequested,
} from '../support/events.js';
import { subjectMatches } from '../support/markdown.js';

const r1 = regionRegistered({ region: 'r1' });
const r2 = regionRegistered({ region: 'r2' });
const f1 = fileRegistered();
const later = iso(60_000);

/** One event of every type, each from r1 where it names a region. */
const oneOfEach: Record<EventType, CoordinatorEvent> = {
  'file.registered': fileRegistered(),
  'file.updated': fileUpdated(),
  'file.deleted': { schema: 1, type: 'file.deleted', id: 'del-1', at: later, region: 'r1', fileId: 'f1', clock: { r1: 2 } },
  'sync.acked': syncAcked({ region: 'r1' }),
  'sync.demanded': syncDemanded({ region: 'r1' }),
  'sync.requested': syncRequested({ region: 'r1' }),
  'region.registered': r1,
  'region.deregistered': regionDeregistered(),
  'region.heartbeat': regionHeartbeat(),
  'region.health': regionHealth(),
  'conflict.resolved': conflictResolved(),
  'policy.set': policySet(),
};

describe('the subject layout', () => {
  test('each type has its canonical subject: region events on the region\'s own, verdicts and registrations shared', () => {
    assert.deepEqual(Object.keys(oneOfEach).sort(), Object.keys(eventCodecs).sort());
    const canonical = Object.fromEntries(Object.entries(oneOfEach).map(([type, e]) => [type, subjectFor(e)]));
    assert.deepEqual(canonical, {
      'file.registered': 'jzse.changes.r1',
      'file.updated': 'jzse.changes.r1',
      'file.deleted': 'jzse.changes.r1',
      'sync.acked': 'jzse.sync.acks.r1',
      'sync.demanded': 'jzse.sync.demands.r1',
      'region.heartbeat': 'jzse.regions.status.r1',
      'region.registered': 'jzse.regions.status',
      'region.deregistered': 'jzse.regions.status',
      'region.health': 'jzse.regions.status',
      'sync.requested': 'jzse.sync.dispatched',
      'conflict.resolved': 'jzse.admin.conflicts',
      'policy.set': 'jzse.admin.policies',
    });
  });

  test('the API subject is jzse.api. + the canonical subject without jzse.', () => {
    assert.equal(apiSubjectFor(oneOfEach['sync.acked']), 'jzse.api.sync.acks.r1');
    assert.equal(apiSubjectFor(oneOfEach['file.updated']), 'jzse.api.changes.r1');
    assert.equal(apiSubjectFor(oneOfEach['region.registered']), 'jzse.api.regions.status');
    assert.equal(apiSubjectFor(oneOfEach['region.heartbeat']), 'jzse.api.regions.status.r1');
    assert.equal(apiSubjectFor(oneOfEach['region.health']), 'jzse.api.regions.status');
    assert.equal(apiSubjectFor(oneOfEach['sync.requested']), 'jzse.api.sync.dispatched');
    assert.equal(apiSubjectFor(oneOfEach['policy.set']), 'jzse.api.admin.policies');
  });

  test('only acks, demands and heartbeats keep their shared subject, as a legacy one', () => {
    const legacy = Object.entries(oneOfEach).filter(([, e]) => legacySubjectFor(e) !== undefined).map(([t, e]) => [t, legacySubjectFor(e)]).sort();
    assert.deepEqual(legacy, [['region.heartbeat', 'jzse.regions.status'], ['sync.acked', 'jzse.sync.acks'], ['sync.demanded', 'jzse.sync.demands']]);
  });

  test('the event stream captures every subject the fold accepts', () => {
    for (const e of Object.values(oneOfEach)) {
      for (const s of acceptedSubjects(e)) assert.ok(INPUT_SUBJECTS.some((p) => subjectMatches(p, s)), `${s} (${e.type}) is not captured`);
    }
  });

  test("a region's own subject names its region; nothing else does", () => {
    assert.equal(regionOfSubject('jzse.changes.eu-west'), 'eu-west');
    assert.equal(regionOfSubject('jzse.sync.acks.eu-west'), 'eu-west');
    assert.equal(regionOfSubject('jzse.sync.demands.eu-west'), 'eu-west');
    assert.equal(regionOfSubject('jzse.regions.status.eu-west'), 'eu-west');
    for (const s of ['jzse.sync.acks', 'jzse.regions.status', 'jzse.api.changes.eu-west', 'jzse.sync.dispatched', 'jzse.admin.policies',
      'jzse.changes.a.b', 'jzse.changes.', 'jzse.changesx.r1', 'jzse.sync.acksx']) {
      assert.equal(regionOfSubject(s), undefined, s);
    }
  });
});

describe('the fold accepts an event on its canonical, API or legacy subject', () => {
  const region = [
    ['region.heartbeat', regionHeartbeat({ at: later }), 'applied'],
    ['region.deregistered', regionDeregistered({ region: 'r1' }), 'applied'],
    ['sync.acked', syncAcked({ region: 'r1', files: [{ fileId: 'f1', clock: { r1: 1 } }] }), 'acked'],
    ['sync.demanded', syncDemanded({ region: 'r1' }), 'applied'],
    ['region.health', regionHealth({ region: 'r1' }), 'applied'],
    ['policy.set', policySet(), 'applied'],
  ] as const;
  for (const [type, event, kind] of region) {
    for (const subject of acceptedSubjects(event)) {
      test(`given r1 and f1, when ${type} is stored on ${subject}, then it is ${kind}`, () => {
        given(r1, f1).when(stored(3, event, { subject })).thenDecides(kind);
      });
    }
  }

  for (const subject of acceptedSubjects(r1)) {
    test(`given nothing, when r1's registration is stored on ${subject}, then it is applied`, () => {
      given().when(stored(1, r1, { subject })).thenDecides('applied');
    });
  }

  test('given r1, when a change is stored on the API subject, then it is applied', () => {
    given(r1).when(stored(2, f1, { subject: 'jzse.api.changes.r1' })).thenDecides('applied');
  });

  test('given r1, when a change is stored on a shared subject, then it is rejected naming its subjects (changes never had one)', () => {
    const o = given(r1).when(stored(2, f1, { subject: 'jzse.sync.acks' })).thenRejects('invalid', 'subject');
    assert.match(o.view.rejected.get(f1.id)?.reason ?? '', /must be published on jzse\.changes\.r1 or jzse\.api\.changes\.r1, got jzse\.sync\.acks$/);
  });

  test('given r1, when an ack is stored under jzse.api with the legacy subject, then it is rejected (the API uses the canonical one)', () => {
    given(r1, f1).when(stored(3, syncAcked({ region: 'r1' }), { subject: 'jzse.api.sync.acks' })).thenRejects('invalid', 'subject');
  });

  test("given r1 and r2, when r1's change is stored on r2's API subject, then it is rejected naming its subjects", () => {
    const o = given(r1, r2).when(stored(3, f1, { subject: 'jzse.api.changes.r2' })).thenRejects('invalid', 'subject');
    assert.match(o.view.rejected.get(f1.id)?.reason ?? '', /must be published on jzse\.changes\.r1 or jzse\.api\.changes\.r1, got jzse\.api\.changes\.r2$/);
  });
});

describe('a region publishes only for itself', () => {
  const forged = [
    ['file.registered', fileRegistered({ region: 'r2', clock: { r2: 1 } }), 'jzse.changes.r1'],
    ['sync.acked', syncAcked({ region: 'r2' }), 'jzse.sync.acks.r1'],
    ['sync.demanded', syncDemanded({ region: 'r2' }), 'jzse.sync.demands.r1'],
    ['region.heartbeat', regionHeartbeat({ region: 'r2', at: later }), 'jzse.regions.status.r1'],
    ['region.registered', regionRegistered({ region: 'r2', id: 'join-r2-again' }), 'jzse.regions.status.r1'],
    ['region.deregistered', regionDeregistered({ region: 'r2' }), 'jzse.regions.status.r1'],
    ['region.health', regionHealth({ region: 'r2' }), 'jzse.regions.status.r1'],
    ['file.updated', fileUpdated({ region: 'r2', clock: { r2: 1 } }), 'jzse.sync.acks.r1'],
  ] as const;
  for (const [type, event, subject] of forged) {
    test(`given r1, r2 and f1, when ${type} naming r2 is stored on ${subject}, then it is rejected on field region`, () => {
      const o = given(r1, r2, f1).when(stored(4, event, { subject })).thenRejects('invalid', 'region');
      assert.equal(o.view.rejected.get(event.id)?.reason, `region: r2 is not the region of subject ${subject} (a region publishes only for itself)`);
    });
  }

  const verdicts = [
    ['region.health', regionHealth({ region: 'r1' }), 'jzse.regions.status.r1'],
    ['region.registered', regionRegistered({ region: 'r1', id: 'join-r1-again' }), 'jzse.regions.status.r1'],
    ['region.deregistered', regionDeregistered({ region: 'r1' }), 'jzse.regions.status.r1'],
    ['sync.requested', syncRequested({ region: 'r1' }), 'jzse.sync.demands.r1'],
    ['sync.requested', syncRequested({ region: 'r1' }), 'jzse.sync.acks.r1'],
  ] as const;
  for (const [type, event, subject] of verdicts) {
    test(`given r1, r2 and f1, when ${type} for ${event.region} is stored on ${subject}, then it is rejected (not the region's to publish)`, () => {
      const o = given(r1, r2, f1).when(stored(4, event, { subject })).thenRejects('invalid', 'subject');
      assert.match(o.view.rejected.get(event.id)?.reason ?? '', new RegExp(`must be published on ${subjectFor(event).replace(/\./g, '\\.')} or `));
    });
  }
});

describe('the proven principal of a stored message', () => {
  const entry = (subject: string, header?: string, event: CoordinatorEvent = f1) =>
    decodeEntry(stored(1, event, { subject, ...(header === undefined ? {} : { principal: header }) }));

  test(`is ${PRINCIPAL_HEADER}'s name for the header`, () => assert.equal(PRINCIPAL_HEADER, 'Jzse-Principal'));

  test("on a region's own subject: the region from the subject, whatever the header says", () => {
    for (const [subject, event] of [
      ['jzse.changes.r1', f1], ['jzse.sync.acks.r1', syncAcked({ region: 'r1' })],
      ['jzse.sync.demands.r1', syncDemanded({ region: 'r1' })], ['jzse.regions.status.r1', regionHeartbeat()],
      ['jzse.regions.status.r1', r1],
    ] as const) {
      assert.equal(entry(subject, undefined, event).principal, 'region:r1', subject);
      assert.equal(entry(subject, 'coordinator:c1', event).principal, 'region:r1', `${subject}: a forged header is ignored`);
    }
  });

  test("on a region's own subject, even for a message that does not decode or names another region", () => {
    assert.equal(decodeEntry(stored(1, encode({ junk: true }), { subject: 'jzse.changes.r7', principal: 'admin' })).principal, 'region:r7');
    assert.equal(entry('jzse.changes.r1', 'admin', fileRegistered({ region: 'r2' })).principal, 'region:r1');
  });

  test('on API, admin, legacy shared and dispatched subjects: the header, else null', () => {
    const cases = [
      ['jzse.api.changes.r1', f1],
      ['jzse.api.sync.acks.r1', syncAcked({ region: 'r1' })],
      ['jzse.api.regions.status', r1],
      ['jzse.api.regions.status.r1', regionHeartbeat()],
      ['jzse.api.admin.policies', policySet()],
      ['jzse.admin.policies', policySet()],
      ['jzse.admin.conflicts', conflictResolved()],
      ['jzse.sync.acks', syncAcked({ region: 'r1' })],
      ['jzse.sync.demands', syncDemanded({ region: 'r1' })],
      ['jzse.regions.status', regionHealth()],
      ['jzse.regions.status', r1],
      ['jzse.sync.dispatched', syncRequested()],
    ] as const;
    for (const [subject, event] of cases) {
      assert.equal(entry(subject, 'coordinator:c1', event).principal, 'coordinator:c1', subject);
      assert.equal(entry(subject, undefined, event).principal, null, `${subject} without the header`);
      assert.equal(entry(subject, '', event).principal, null, `${subject} with an empty header`);
    }
  });

  test("the API's early decision sees the principal the fold will", () => {
    assert.equal(entryOf(f1, 'jzse.api.changes.r1', 1, iso(0), 'alice').principal, 'alice');
    assert.equal(entryOf(f1, 'jzse.api.changes.r1', 1, iso(0)).principal, null);
    assert.equal(entryOf(f1, 'jzse.changes.r1', 1, iso(0), 'alice').principal, 'region:r1');
  });

  test('a rejected entry keeps the proven principal: who published the forgery', () => {
    const forgedAck = syncAcked({ id: 'forged-ack', region: 'r2' });
    const o = given(r1, r2, f1).when(stored(4, forgedAck, { subject: 'jzse.sync.acks.r1', principal: 'admin' })).thenRejects('invalid', 'region');
    assert.equal(o.view.rejected.get('forged-ack')?.principal, 'region:r1');
    const bare = given(r1).when(stored(2, f1, { subject: 'jzse.admin.policies' })).thenRejects('invalid', 'subject');
    assert.equal(bare.view.rejected.get(f1.id)?.principal, null);
  });
});
