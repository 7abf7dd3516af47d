// The fence: a leader's election key and its create revision. Every view transaction compares it
// (src/etcd/viewStore.ts), so a deposed leader writes nothing; FencedError is how the projector
// learns that a transaction was refused (recovery's repairs, commits' batches) and steps down.

/** A leader's election key, its create revision, and the election's key prefix. */
export type Fence = { readonly key: string; readonly createRevision: string; readonly electionPrefix: string };

/** Why a fenced write was refused: the fence no longer holds, or the checkpoint moved under it. */
export type FenceRefusal = 'fenced' | 'checkpoint-moved';

export class FencedError extends Error {
  constructor(readonly reason: FenceRefusal = 'fenced') {
    super(reason === 'fenced'
      ? 'leadership lost: a fenced etcd transaction was refused'
      : 'the checkpoint moved under this leader: another writer touched the view; stepping down to recover');
    this.name = 'FencedError';
  }
}
