// Proves from etcd's own history that every view commit was made by the leader of the moment:
// each commit also writes the fencing record {seq, leader, term}; at the revision of each write,
// the election's lowest key must be that leader's key with that create revision.
import type { Etcd3, IKeyValue } from 'etcd3';
import { prefixEnd } from '../../src/etcd/viewStore.js';
import { withTimeout } from '../../src/util/waitFor.js';

export type FencingAudit = { readonly commits: number; readonly terms: number; readonly violations: string[] };

const history = async (client: Etcd3, key: string): Promise<IKeyValue[]> => {
  const current = (await client.kv.range({ key: Buffer.from(key) })).kvs[0];
  if (current === undefined) return [];
  const seen: IKeyValue[] = [];
  const watcher = await client.watch().key(key).startRevision('1').create();
  try {
    const replayed = new Promise<void>((resolve, reject) => {
      watcher.on('put', (kv) => {
        seen.push(kv);
        if (BigInt(kv.mod_revision) >= BigInt(current.mod_revision)) resolve();
      });
      // e.g. history compacted away: the watch ends instead of replaying it.
      watcher.on('error', reject);
    });
    await withTimeout(replayed, 60_000, `etcd to replay the history of ${key} up to revision ${current.mod_revision}`);
  } finally {
    await watcher.cancel();
  }
  return seen;
};

export const auditFencing = async (client: Etcd3, fencingKey: string, electionPrefix: string): Promise<FencingAudit> => {
  const records = await history(client, fencingKey);
  const violations: string[] = [];
  const terms = new Set<string>();
  let lastSeq = 0;
  for (const kv of records) {
    const record = JSON.parse(kv.value.toString()) as { seq: number; leader: string; term: string };
    terms.add(record.term);
    if (record.seq <= lastSeq) violations.push(`revision ${kv.mod_revision}: checkpoint ${record.seq} after ${lastSeq}`);
    lastSeq = record.seq;
    const candidates = await client.kv.range({
      key: Buffer.from(electionPrefix),
      range_end: prefixEnd(Buffer.from(electionPrefix)),
      revision: kv.mod_revision,
      sort_target: 'Create',
      sort_order: 'Ascend',
      limit: 1,
    });
    const leader = candidates.kvs[0];
    if (leader?.key.toString() !== record.leader || leader.create_revision !== record.term) {
      violations.push(`revision ${kv.mod_revision}: commit of seq ${record.seq} by ${record.leader} (term ${record.term}) while the leader was ${leader?.key.toString() ?? 'nobody'}`);
    }
  }
  return { commits: records.length, terms: terms.size, violations };
};
