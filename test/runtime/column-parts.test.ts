/** ColumnParts (runtime/connectors/column-parts.ts): parts pulled in order, merged as one batch, failure wins. */
import { describe, expect, it } from "vitest";
import { ColumnBatch, ColumnParts, mergeBatches } from "../../runtime/connectors";

describe("ColumnParts and mergeBatches", () => {
  it("merges parts as the same rows in one batch: first-seen column order, nulls where a part lacks a column, doubles kept", () => {
    const a = new ColumnBatch(["id", "x"], [new Float64Array([1, 2]), ["a", null]], 2);
    const b = new ColumnBatch(["id", "y"], [new Float64Array([3]), [true]], 1);
    const m = mergeBatches([a, b]);
    expect(m.names).toEqual(["id", "x", "y"]);
    expect(m.column("id")).toBeInstanceOf(Float64Array);
    expect(m.rows()).toEqual([
      { id: 1, x: "a", y: null },
      { id: 2, x: null, y: null },
      { id: 3, x: null, y: true },
    ]);
    const c = new ColumnBatch(["id"], [[null]], 1);
    expect(mergeBatches([a, c]).column("id")).toEqual([1, 2, null]);
  });

  it("yields parts as they arrive, acknowledges each when taken, and a failure releases the queue and wins over queued parts", async () => {
    const parts = new ColumnParts();
    const taken: number[] = [];
    const one = new ColumnBatch(["id"], [[1]], 1);
    const pulled = parts.next();
    parts.push(one, () => taken.push(1));
    expect(await pulled).toBe(one);
    expect(taken).toEqual([1]);
    parts.push(one, () => taken.push(2));
    parts.push(one, () => taken.push(3));
    expect(parts.queued).toBe(2);
    parts.fail(new Error("gone"));
    expect(taken).toEqual([1, 2, 3]);
    await expect(parts.next()).rejects.toThrow("gone");
    const done = new ColumnParts();
    done.push(one, () => undefined);
    done.push(new ColumnBatch(["v"], [["z"]], 1), () => undefined);
    done.end();
    expect((await done.whole()).rows()).toEqual([
      { id: 1, v: null },
      { id: null, v: "z" },
    ]);
    expect(await done.next()).toBeNull();
  });
});
