/**
 * The run's cursor registry (sandbox/executor/connector-streams.ts) against hostile arguments and connectors
 * that cannot stream or load, with in-test connectors standing in for drivers that lack those abilities.
 */
import { describe, expect, it } from "vitest";
import type { HostConnector, LoadRequest, RowCursor, RowSource } from "../../runtime/connectors";
import { MAX_OPEN_CURSORS, RunCursors } from "../../sandbox/executor/connector-streams";

/** A connector that can neither stream nor load from a source. */
const plain: HostConnector = { kind: "plain_kind", call: async () => null, close: async () => undefined };

/** Streams `total` numbered rows; remembers which cursors were closed. */
function streaming(total: number): HostConnector & { openCursor(sql: string, p: unknown[], n: number): Promise<RowCursor>; closed: number } {
  const c = {
    kind: "numbers",
    closed: 0,
    call: async () => null,
    close: async () => undefined,
    async openCursor(_sql: string, _params: unknown[], batchSize: number): Promise<RowCursor> {
      let next = 0;
      let open = true;
      return {
        next: async () => {
          if (!open || next >= total) return null;
          const rows = Array.from({ length: Math.min(batchSize, total - next) }, (_, i) => ({ i: next + i }));
          next += rows.length;
          await new Promise((r) => setImmediate(r));
          return rows;
        },
        close: async () => {
          if (open) c.closed++;
          open = false;
        },
      };
    },
  };
  return c;
}

/** A target that reads its whole source and reports what it saw. */
function loading(): HostConnector & { loadFrom(s: RowSource, r: LoadRequest): Promise<number>; seen: LoadRequest[] } {
  const t = {
    kind: "sink",
    seen: [] as LoadRequest[],
    call: async () => null,
    close: async () => undefined,
    async loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
      t.seen.push(request);
      let n = 0;
      for await (const batch of source) n += batch.length;
      return n;
    },
  };
  return t;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe("the run's cursor registry", () => {
  it("a connector that cannot stream answers TAU_E_CONNECTOR_ARGS_INVALID naming its kind", async () => {
    const cursors = new RunCursors({ maxBatchRows: 1_000_000 });
    const err = await cursors.call("h1", plain, "cursor.open", ["SELECT 1", [], { batchSize: 10 }]).catch((e) => e);
    expect(err).toMatchObject({ code: "TAU_E_CONNECTOR_ARGS_INVALID", details: { kind: "plain_kind" } });
    expect(await code(cursors.copy(loading(), { table: "t" }, "h1", plain, { sql: "SELECT 1", params: [] }))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(await code(cursors.copy(plain, { table: "t" }, "h2", streaming(5), { sql: "SELECT 1", params: [] }))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("hostile arguments are refused: bad SQL, params, batchSize, cursor ids, and another connector's cursor", async () => {
    const cursors = new RunCursors({ maxBatchRows: 1000 });
    const src = streaming(100);
    const cases: unknown[][] = [[""], [42], ["SELECT 1", "not-an-array"], ["SELECT 1", [], { batchSize: 0 }], ["SELECT 1", [], { batchSize: 100_001 }], ["SELECT 1", [], "x"]];
    for (const args of cases) expect(await code(cursors.call("h1", src, "cursor.open", args))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const { cursor } = (await cursors.call("h1", src, "cursor.open", ["SELECT 1", [], { batchSize: 10 }])) as { cursor: string };
    expect(await code(cursors.call("h1", src, "cursor.next", [{ id: cursor }]))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(await code(cursors.call("h2", src, "cursor.next", [cursor]))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(await code(cursors.call("h1", src, "cursor.next", ["c999"]))).toBe("TAU_E_CONNECTOR_CLOSED");
    expect(await code(cursors.call("h1", src, "cursor.rewind", [cursor]))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(await code(cursors.copy(loading(), { table: "t", mode: "upsert" }, "h1", src, { sql: "SELECT 1" }))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("concurrent next() calls on one cursor are answered in order, and an exhausted cursor is closed and answers done", async () => {
    const cursors = new RunCursors({ maxBatchRows: 1000 });
    const src = streaming(25);
    const { cursor } = (await cursors.call("h1", src, "cursor.open", ["q", [], { batchSize: 10 }])) as { cursor: string };
    const answers = (await Promise.all(Array.from({ length: 5 }, () => cursors.call("h1", src, "cursor.next", [cursor])))) as { rows: { i: number }[]; done: boolean }[];
    expect(answers.map((a) => [a.rows.length, a.rows[0]?.i ?? null, a.done])).toEqual([
      [10, 0, false],
      [10, 10, false],
      [5, 20, false],
      [0, null, true],
      [0, null, true],
    ]);
    expect(src.closed).toBe(1);
    expect(cursors.openCount).toBe(0);
    const capped = new RunCursors({ maxBatchRows: 7 });
    const { cursor: small } = (await capped.call("h1", src, "cursor.open", ["q", [], { batchSize: 10 }])) as { cursor: string };
    expect(((await capped.call("h1", src, "cursor.next", [small])) as { rows: unknown[] }).rows).toHaveLength(7);
  });

  it(`at most ${MAX_OPEN_CURSORS} cursors are open in a run; closing one makes room`, async () => {
    const cursors = new RunCursors({ maxBatchRows: 1000 });
    const src = streaming(10);
    const ids: string[] = [];
    for (let i = 0; i < MAX_OPEN_CURSORS; i++) ids.push(((await cursors.call("h1", src, "cursor.open", ["q", []])) as { cursor: string }).cursor);
    expect(await code(cursors.call("h1", src, "cursor.open", ["q", []]))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    await cursors.call("h1", src, "cursor.close", [ids[0]]);
    expect(await code(cursors.call("h1", src, "cursor.open", ["q", []]))).toBe("ok");
  });

  it("closing a connector closes its cursors and refuses new ones; a copy reading from it fails instead of loading part of the rows", async () => {
    const cursors = new RunCursors({ maxBatchRows: 1000 });
    const a = streaming(1_000_000);
    const b = streaming(10);
    await cursors.call("h1", a, "cursor.open", ["q", []]);
    await cursors.call("h2", b, "cursor.open", ["q", []]);
    const target = loading();
    const copying = cursors.copy(target, { table: "t" }, "h1", a, { sql: "q", params: [] });
    await new Promise((r) => setTimeout(r, 5));
    await cursors.closeFor("h1");
    expect(await code(copying)).toBe("TAU_E_CONNECTOR_CLOSED");
    expect(a.closed).toBe(2);
    expect(b.closed).toBe(0);
    expect(await code(cursors.call("h1", a, "cursor.open", ["q", []]))).toBe("TAU_E_CONNECTOR_CLOSED");
    await cursors.closeAll();
    expect(b.closed).toBe(1);
    expect(cursors.openCount).toBe(0);
  });

  it("a copy hands the target the validated request and every row", async () => {
    const cursors = new RunCursors({ maxBatchRows: 1000 });
    const target = loading();
    expect(await cursors.copy(target, { table: "s.t", mode: "upsert", mergeKey: "i" }, "h1", streaming(25_001), { sql: "q", params: [1] })).toBe(25_001);
    expect(target.seen).toEqual([{ table: "s.t", mode: "upsert", mergeKey: ["i"] }]);
    expect(cursors.openCount).toBe(0);
  });
});
