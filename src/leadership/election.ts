// The projecting leader, elected through etcd. Leadership is a lease-bound key; its create
// revision is the fence every view transaction compares, so a deposed leader writes nothing.
import type { Etcd3 } from 'etcd3';
import type { Fence } from '../etcd/fence.js';
import { onAbort, unlessAborted } from '../util/abort.js';

export type Leadership = {
  readonly fence: Fence;
  /** Aborted when the lease is lost (keep-alive failed or revoked). */
  readonly lost: AbortSignal;
  /** Revokes the lease: the next candidate takes over at once instead of after the TTL. */
  readonly resign: () => Promise<void>;
};

/** Campaigns until elected; resolves undefined if `signal` aborts first. */
export const campaign = async (
  client: Etcd3,
  prefix: string,
  candidate: string,
  ttlMs: number,
  signal: AbortSignal,
): Promise<Leadership | undefined> => {
  if (signal.aborted) return undefined;
  const c = client.namespace(`${prefix}/`).election('projector', Math.max(1, Math.ceil(ttlMs / 1000))).campaign(candidate);
  const lost = new AbortController();
  c.on('error', () => lost.abort());
  // Through onAbort: a signal that aborted before this call resigns (and stops waiting) at once.
  const dropAbandon = onAbort(signal, () => void c.resign().catch(() => undefined));
  try {
    const elected = (await unlessAborted(signal, c.wait().then(() => true))) === true;
    if (!elected || signal.aborted) return undefined;
    const key = await c.getCampaignKey();
    const kv = (await client.kv.range({ key: Buffer.from(key) })).kvs[0];
    // Aborted meanwhile: the campaign was resigned on abort, so this is no leadership to hand out.
    if (signal.aborted) return undefined;
    if (kv === undefined) {
      lost.abort();
      return undefined;
    }
    return {
      fence: { key, createRevision: kv.create_revision, electionPrefix: `${prefix}/election/projector/` },
      lost: lost.signal,
      resign: () => c.resign().catch(() => undefined),
    };
  } finally {
    dropAbandon();
  }
};
