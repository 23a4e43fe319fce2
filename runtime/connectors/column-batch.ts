/**
 * A batch of rows held as columns: what the bridge's columnar row transport (`connector.load`,
 * docs/bridge-protocol.md) decodes the guest's rows into. One array per column (a Float64Array for a numeric
 * column without nulls), every array `length` long;
 * a row that lacked a field has null there (every driver treats a missing field and null alike).
 *
 * Drivers that write a column at a time (DuckDB's vector appends) read `column(name)` directly; the others
 * iterate the RowSource as before and get row objects, built once on first use (`rows()`).
 *
 * @example
 * ```ts
 * const batch = new ColumnBatch(["id", "name"], [[1, 2], ["a", null]], 2);
 * batch.column("name");   // ["a", null]
 * batch.rows();           // [{ id: 1, name: "a" }, { id: 2, name: null }]
 * const source = columnSource(batch); // a RowSource of one batch, with `columns` set
 * ```
 */
import type { RowSource } from "./types";

export class ColumnBatch {
  private readonly index = new Map<string, number>();
  private built: Record<string, unknown>[] | null = null;

  /** `names` must be distinct and every column `length` long (the decoder checks both). */
  constructor(
    readonly names: readonly string[],
    readonly columns: readonly ArrayLike<unknown>[],
    readonly length: number,
  ) {
    for (let i = 0; i < names.length; i++) this.index.set(names[i], i);
  }

  /** The values of column `name`, or undefined when the batch has no such column. */
  column(name: string): ArrayLike<unknown> | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.columns[i];
  }

  /** The rows as objects (keys in column order), as the row transport's JSON.parse would have made them. */
  rows(): Record<string, unknown>[] {
    if (this.built) return this.built;
    const { names, columns, length } = this;
    const out = new Array<Record<string, unknown>>(length);
    // "__proto__" must become an own field, as JSON.parse makes it, not the object's prototype.
    const plain = !names.includes("__proto__");
    for (let r = 0; r < length; r++) {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < names.length; c++) {
        if (plain) row[names[c]] = columns[c][r];
        else Object.defineProperty(row, names[c], { value: columns[c][r], enumerable: true, writable: true, configurable: true });
      }
      out[r] = row;
    }
    this.built = out;
    return out;
  }
}

/** One batch of rows, as row objects or as columns: what the load paths that take either iterate. */
export type Batch = readonly Record<string, unknown>[] | ColumnBatch;

/** A RowSource of one columnar batch: iterating it yields the rows as objects; `columns` gives the columns. */
export function columnSource(batch: ColumnBatch): RowSource {
  return {
    columns: batch,
    async *[Symbol.asyncIterator]() {
      if (batch.length > 0) yield batch.rows();
    },
  };
}

/** The batches of `source`: its columnar batch when it has one (no row objects built), else its row batches. */
export async function* batchesOf(source: RowSource): AsyncGenerator<Batch> {
  if (source.columns) {
    if (source.columns.length > 0) yield source.columns;
    return;
  }
  if (source.parts) {
    // A pipelined load (column-parts.ts): each part as it arrives.
    for (let b = await source.parts.next(); b; b = await source.parts.next()) if (b.length > 0) yield b;
    return;
  }
  for await (const batch of source) yield batch;
}

/** The value of field `key` in row `r` of a batch (undefined when absent). */
export function valueAt(batch: Batch, r: number, key: string): unknown {
  if (batch instanceof ColumnBatch) return batch.column(key)?.[r];
  return batch[r][key];
}
