// What a read handler reads from: a view at one sequence, either a committed view this process
// holds in memory or etcd at a checkpoint's revision (viewReader.ts).
import type { Collection, RecordOf, View } from '../../projections/view.js';

export type Snapshot = {
  /** The sequence the records returned reflect, exactly. */
  readonly seq: number;
  readonly get: <C extends Collection>(collection: C, key: string) => Promise<RecordOf<C> | undefined>;
  readonly getMany: <C extends Collection>(collection: C, keys: readonly string[]) => Promise<Map<string, RecordOf<C>>>;
};

export const memorySnapshot = (view: View): Snapshot => {
  const get = <C extends Collection>(collection: C, key: string) => view[collection].get(key) as RecordOf<C> | undefined;
  return {
    seq: view.seq,
    get: (collection, key) => Promise.resolve(get(collection, key)),
    getMany: <C extends Collection>(collection: C, keys: readonly string[]) => {
      const out = new Map<string, RecordOf<C>>();
      for (const k of keys) {
        const record = get(collection, k);
        if (record !== undefined) out.set(k, record);
      }
      return Promise.resolve(out);
    },
  };
};

/** Runs `fn` over `items` with at most `width` calls in flight. */
export const inPool = async <T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
};
