/**
 * A binary min-heap of keyed entries ordered by time (ties by key, for determinism), with an index from
 * key to entry so an entry can be moved or removed in O(log n). The scheduler keeps one entry per
 * scheduled pipeline and one timer for the top: no scan of all pipelines per tick.
 */
interface Item<T> {
  key: string;
  at: number;
  value: T;
  /** Position in `items`, kept on the item so a swap touches no map. */
  index: number;
}

export class TimeHeap<T> {
  private readonly items: Item<T>[] = [];
  private readonly byKey = new Map<string, Item<T>>();

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The time `key` is planned at, or undefined when it is not in the heap. */
  at(key: string): number | undefined {
    return this.byKey.get(key)?.at;
  }

  /** The earliest entry, or undefined when empty. */
  peek(): { key: string; at: number; value: T } | undefined {
    return this.items[0];
  }

  /** Inserts or moves `key` to time `at`. */
  set(key: string, at: number, value: T): void {
    const item = this.byKey.get(key);
    if (!item) {
      const added: Item<T> = { key, at, value, index: this.items.length };
      this.items.push(added);
      this.byKey.set(key, added);
      this.up(added.index);
      return;
    }
    const earlier = at < item.at;
    item.at = at;
    item.value = value;
    if (earlier) this.up(item.index);
    else this.down(item.index);
  }

  delete(key: string): boolean {
    const item = this.byKey.get(key);
    if (!item) return false;
    this.byKey.delete(key);
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[item.index] = last;
      last.index = item.index;
      this.up(last.index);
      this.down(last.index);
    }
    return true;
  }

  /** Removes and returns the earliest entry. */
  pop(): { key: string; at: number; value: T } | undefined {
    const top = this.items[0];
    if (top) this.delete(top.key);
    return top;
  }

  private less(x: Item<T>, y: Item<T>): boolean {
    return x.at < y.at || (x.at === y.at && x.key < y.key);
  }

  private place(item: Item<T>, index: number): void {
    this.items[index] = item;
    item.index = index;
  }

  private up(i: number): void {
    const item = this.items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.items[parent]!;
      if (!this.less(item, p)) break;
      this.place(p, i);
      i = parent;
    }
    this.place(item, i);
  }

  private down(i: number): void {
    const item = this.items[i]!;
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(this.items[right]!, this.items[left]!) ? right : left;
      const c = this.items[child]!;
      if (!this.less(c, item)) break;
      this.place(c, i);
      i = child;
    }
    this.place(item, i);
  }
}
