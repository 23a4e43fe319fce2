/**
 * A load whose rows arrive in parts (the bridge's pipelined `connector.load`, docs/bridge-protocol.md): the
 * executor pushes each decoded part as it arrives; the driver's load pulls them in order (`next`), or waits for
 * all of them as one batch (`whole`, `rest`) when it must see every row before writing anything (a missing
 * table, a new field, replace/upsert) — then the load goes exactly as the same rows in one batch.
 *
 * `fail` makes every later pull throw (the run ended, a part was refused): the load rolls back.
 */
import { ColumnBatch } from "./column-batch";

interface Queued {
  batch: ColumnBatch;
  taken: () => void;
}

export class ColumnParts {
  private readonly queue: Queued[] = [];
  private done = false;
  private error: { err: unknown } | null = null;
  private wake: (() => void) | null = null;
  /** Every part pulled so far, in order (kept for `whole` and for reporting errors as one batch would). */
  readonly taken: ColumnBatch[] = [];

  /** Parts pushed and not yet pulled. */
  get queued(): number {
    return this.queue.length;
  }

  get failed(): boolean {
    return this.error !== null;
  }

  /** Adds a part; `taken` is called once the load has pulled it (or the load failed or ended). */
  push(batch: ColumnBatch, taken: () => void): void {
    this.queue.push({ batch, taken });
    this.signal();
  }

  /** No more parts. */
  end(): void {
    this.done = true;
    this.signal();
  }

  /** Every later pull throws `err` (the first failure wins); parts still queued are released. */
  fail(err: unknown): void {
    if (!this.error) this.error = { err };
    this.done = true;
    for (const q of this.queue.splice(0)) q.taken();
    this.signal();
  }

  /** The next part, or null after the last one. */
  async next(): Promise<ColumnBatch | null> {
    for (;;) {
      if (this.error) throw this.error.err;
      const q = this.queue.shift();
      if (q) {
        this.taken.push(q.batch);
        q.taken();
        return q.batch;
      }
      if (this.done) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** `first` (already pulled) and every part still to come, as one batch. */
  async rest(first: ColumnBatch): Promise<ColumnBatch> {
    const list = [first];
    for (let b = await this.next(); b; b = await this.next()) list.push(b);
    return mergeBatches(list);
  }

  /** Every part, as one batch (waits for the last). */
  async whole(): Promise<ColumnBatch> {
    while (await this.next());
    return mergeBatches(this.taken);
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/**
 * Batches as one: columns in first-seen order, a row that lacked a column null there — the columns the
 * guest would have encoded for the same rows sent at once (a numeric column without nulls stays doubles).
 */
export function mergeBatches(batches: readonly ColumnBatch[]): ColumnBatch {
  if (batches.length === 1) return batches[0];
  const names: string[] = [];
  const seen = new Set<string>();
  let length = 0;
  for (const b of batches) {
    length += b.length;
    for (const name of b.names) {
      if (seen.has(name)) continue;
      seen.add(name);
      names.push(name);
    }
  }
  const columns = names.map((name) => {
    const parts = batches.map((b) => b.column(name));
    if (parts.every((p) => p instanceof Float64Array)) {
      const out = new Float64Array(length);
      let at = 0;
      for (const p of parts as Float64Array[]) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    }
    const out = new Array<unknown>(length);
    let at = 0;
    for (let i = 0; i < batches.length; i++) {
      const p = parts[i];
      const n = batches[i].length;
      for (let r = 0; r < n; r++) out[at + r] = p ? p[r] : null;
      at += n;
    }
    return out;
  });
  return new ColumnBatch(names, columns, length);
}

/** A RowSource whose batches are the parts as they arrive (row objects for drivers that iterate rows). */
export function partsSource(parts: ColumnParts): { parts: ColumnParts; [Symbol.asyncIterator](): AsyncGenerator<Record<string, unknown>[]> } {
  return {
    parts,
    async *[Symbol.asyncIterator]() {
      for (let b = await parts.next(); b; b = await parts.next()) if (b.length > 0) yield b.rows();
    },
  };
}
