// A binary min-heap whose items can go stale: the sync index replaces an entry's slot instead of
// searching the heap for it, and stale items are skipped when they reach the top.

export class Heap<T> {
  private items: T[] = [];

  constructor(
    private readonly before: (a: T, b: T) => boolean,
    private readonly live: (item: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const h = this.items;
    h.push(item);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** The first live item, dropping stale ones above it. */
  peek(): T | undefined {
    while (this.items.length > 0 && !this.live(this.items[0]!)) this.removeTop();
    return this.items[0];
  }

  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeTop();
    return top;
  }

  /** Drops stale items once they outnumber the live ones (`liveCount`), so memory follows the live set. */
  compact(liveCount: number): void {
    if (this.items.length <= 2 * liveCount + 1024) return;
    const keep = this.items.filter(this.live);
    this.items = [];
    for (const item of keep) this.push(item);
  }

  private removeTop(): void {
    const h = this.items;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
