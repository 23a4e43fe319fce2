/**
 * The columnar row transport through a real executor: a pipeline's `db.load(rows)` goes as `connector.load`
 * and gives the same table as the row transport, and a hostile guest holding the raw dispatch function gets
 * an ok:false answer with a TAU_E_ code for every malformed batch, with the target table left as it was.
 */
import { describe, expect, it } from "vitest";
import type { RunOutcome } from "../../sandbox/types";
import { pipelineFile, policyWith, runSource, useHostilePool } from "./helpers";

function resultOf(outcome: RunOutcome): unknown {
  if (outcome.status !== "succeeded") throw new Error(`run ${outcome.status}: ${JSON.stringify(outcome.error)}`);
  return outcome.result;
}

describe("the columnar row transport through the real executor", () => {
  const hostile = useHostilePool();

  it("db.load sends the rows as columns, and the table equals one loaded from the same rows sent as objects", async () => {
    const source = pipelineFile(`
  const leak = (globalThis as any).__leak;
  const sent: string[] = [];
  const raw = leak.dispatch;
  (globalThis as any).__tau_seen = sent;
  await using db = duckdb_local("same.duckdb");
  const rows: any[] = [];
  for (let i = 0; i < 5000; i++) {
    rows.push({ id: i, name: i % 7 === 0 ? null : "n" + i, amount: i / 3, big: BigInt(i) * 10000000000n, ok: i % 2 === 0,
      day: new Date(Date.UTC(2024, 0, 1 + (i % 28))), meta: i % 5 === 0 ? { i, tags: ["x", i] } : null, ...(i % 3 === 0 ? { extra: "e" + i } : {}) });
  }
  const viaColumns = await db.load(rows, { table: "via_columns" });
  await db.execute("SELECT 1"); // opens nothing new; the handle is h1
  const viaRows: any = await new Promise((resolve) => {
    leak.dispatch(700001, "connector.call", JSON.stringify({ handle: "h1", method: "load", args: [rows, { table: "via_rows", mode: "append" }] },
      (_k: string, v: unknown) => (typeof v === "bigint" ? String(v) : v)));
    const poll = async () => {
      for (;;) {
        await db.execute("SELECT 1");
        const hit = leak.answers.find((a: any[]) => a[0] === 700001);
        if (hit) return resolve(JSON.parse(hit[1]));
      }
    };
    void poll();
  });
  const a = await db.extract("SELECT * FROM via_columns ORDER BY id");
  const b = await db.extract("SELECT * FROM via_rows ORDER BY id");
  return { viaColumns, viaRows, same: JSON.stringify(a) === JSON.stringify(b), n: a.length,
    schemaA: await db.getSchema("via_columns"), schemaB: await db.getSchema("via_rows"), sample: a[15] };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const r = resultOf(outcome) as Record<string, any>;
    expect(r.viaColumns).toBe(5000);
    expect(r.viaRows).toEqual({ ok: true, value: 5000 });
    expect(r.same).toBe(true);
    expect(r.n).toBe(5000);
    expect(r.schemaA).toEqual(r.schemaB);
    expect(r.schemaA.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      "id BIGINT",
      "name VARCHAR",
      "amount DOUBLE",
      "big VARCHAR", // BigInts cross as decimal text, as with the row transport
      "ok BOOLEAN",
      "day TIMESTAMP WITH TIME ZONE",
      "meta JSON",
      "extra VARCHAR",
    ]);
    expect(r.sample).toEqual({ id: 15, name: "n15", amount: 5, big: "150000000000", ok: false, day: "2024-01-16T00:00:00.000Z", meta: { i: 15, tags: ["x", 15] }, extra: "e15" });
  });

  it("a load whose columns would pass the byte limit where the same rows as objects fit goes as objects; one that fits neither way is refused", async () => {
    // One column of short fractions: 10 characters a row as JSON objects, 8 bytes of a double (15 in UTF-8) as a column.
    const source = pipelineFile(`
  await using db = duckdb_local("limits.duckdb");
  const rows = Array.from({ length: 10000 }, () => ({ a: 0.1 }));
  const loaded = await db.load(rows, { table: "small" });
  let refused = "";
  try { await db.load(Array.from({ length: 20000 }, () => ({ a: 0.1 })), { table: "small" }); } catch (err: any) { refused = err.code; }
  return { loaded, refused, count: (await db.extract("SELECT count(*) AS n FROM small"))[0] };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path, policy: policyWith({ bridgeBytes: 120_000 }) });
    expect(resultOf(outcome)).toEqual({ loaded: 10000, refused: "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", count: { n: 10000 } });
  });

  it("rows that do not fit the columnar shape load, or fail, exactly as before through the row transport", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local("fallback.duckdb");
  const codes: Record<string, unknown> = {};
  const attempt = async (name: string, rows: unknown[]) => {
    try { codes[name] = await db.load(rows as any, { table: "fb" }); } catch (err: any) { codes[name] = err.code + ": " + err.message; }
  };
  const cyclic: any = { id: 9 };
  cyclic.self = cyclic;
  await attempt("array row", [{ id: 1 }, [2]]);
  await attempt("cycle", [cyclic]);
  await attempt("row with toJSON", [{ id: 3, toJSON: () => ({ id: 33 }) }]);
  await attempt("sparse", Array.from({ length: 300 }, (_, i) => ({ id: 100 + i, ["f" + i]: i })));
  return { codes, rows: await db.extract("SELECT id FROM fb ORDER BY id LIMIT 3"), count: (await db.extract("SELECT count(*) AS n FROM fb"))[0] };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const r = resultOf(outcome) as { codes: Record<string, string | number>; rows: unknown[]; count: unknown };
    expect(r.codes["array row"]).toBe("TAU_E_CONNECTOR_ARGS_INVALID: Row 1 is not an object; load takes an array of objects (one per row).");
    expect(String(r.codes.cycle)).toMatch(/^TAU_E_BRIDGE_PAYLOAD_INVALID: The data passed to connector.call is not plain JSON/);
    expect(r.codes["row with toJSON"]).toBe(1);
    expect(r.codes.sparse).toBe(300);
    expect(r.rows).toEqual([{ id: 33 }, { id: 100 }, { id: 101 }]);
    expect(r.count).toEqual({ n: 301 });
  });

  it("answers every malformed batch from a hostile guest with a TAU_E_ code, and the target table keeps its rows", async () => {
    const source = pipelineFile(`
  const leak = (globalThis as any).__leak;
  await using db = duckdb_local("hostile.duckdb");
  await db.load([{ id: 1, v: "keep" }, { id: 2, v: "me" }], { table: "target" });
  const options = { table: "target", mode: "append" };
  const head = (rows: number, columns: unknown[]) => JSON.stringify({ handle: "h1", options, rows, columns }) + "\\n";
  const deep = "[".repeat(200000) + "]".repeat(200000);
  const cases: Array<[string, string]> = [
    ["no header", "[1,2,3]"],
    ["header not json", "{oops\\n[1]"],
    ["lengths do not add up", head(1, [["id", "n", 3], ["v", "s", 10]]) + "[3]" + '["x"]'],
    ["lying row count", head(3, [["id", "n", 5], ["v", "s", 9]]) + "[3,4]" + '["x","y"]'],
    ["lying kind", head(2, [["id", "n", 9], ["v", "s", 9]]) + '[3,"four"]' + '["x","y"]'],
    ["deep nesting in a number column", head(1, [["id", "n", deep.length]]) + deep],
    ["deep nesting in a JSON value", head(1, [["id", "n", 3], ["v", "j", deep.length + 2]]) + "[3]" + "[" + deep + "]"],
    ["unknown handle", JSON.stringify({ handle: "h999", options, rows: 1, columns: [["id", "n", 3]] }) + "\\n[3]"],
    ["bad options", JSON.stringify({ handle: "h1", options: { table: "target", mode: "sideways" }, rows: 1, columns: [["id", "n", 3]] }) + "\\n[3]"],
    ["a well-formed batch", head(2, [["id", "n", 5], ["v", "s", 9]]) + "[3,4]" + '["x","y"]'],
  ];
  let id = 800000;
  const ids: Record<string, number> = {};
  for (const [name, text] of cases) {
    ids[name] = ++id;
    leak.dispatch(id, "connector.load", text);
  }
  // A value that does not fit an existing column, through the real SDK path.
  let mismatch = "";
  try { await db.load([{ id: 5, v: "ok" }, { id: "six", v: "no" }], { table: "target" }); } catch (err: any) { mismatch = err.code; }
  for (let i = 0; i < 50 && leak.answers.filter((a: any[]) => a[0] > 800000).length < cases.length; i++) await db.execute("SELECT 1");
  const answers: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(ids)) {
    const hit = leak.answers.find((a: any[]) => a[0] === n);
    answers[name] = hit ? JSON.parse(hit[1]) : "no answer";
  }
  return { answers, mismatch, rows: await db.extract("SELECT * FROM target ORDER BY id") };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const r = resultOf(outcome) as { answers: Record<string, any>; mismatch: string; rows: unknown[] };
    const codes = Object.fromEntries(Object.entries(r.answers).map(([k, a]) => [k, a.ok ? `ok ${JSON.stringify(a.value)}` : a.error.code]));
    expect(codes).toEqual({
      "no header": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "header not json": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "lengths do not add up": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "lying row count": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "lying kind": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "deep nesting in a number column": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "deep nesting in a JSON value": "TAU_E_BRIDGE_PAYLOAD_INVALID",
      "unknown handle": "TAU_E_CONNECTOR_CLOSED",
      "bad options": "TAU_E_CONNECTOR_ARGS_INVALID",
      "a well-formed batch": "ok 2",
    });
    for (const a of Object.values(r.answers)) {
      if (a.ok) continue;
      expect(typeof a.error.message).toBe("string");
      expect(typeof a.error.hint).toBe("string");
      expect(JSON.stringify(a)).not.toMatch(/\n\s*at\s/);
    }
    expect(r.mismatch).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    // The two original rows, plus the one well-formed hostile batch; the refused ones wrote nothing.
    expect(r.rows).toEqual([
      { id: 1, v: "keep" },
      { id: 2, v: "me" },
      { id: 3, v: "x" },
      { id: 4, v: "y" },
    ]);
    const next = await runSource(hostile.pool, pipelineFile(`return "alive";`), { dataDir: hostile.dir.path });
    expect(resultOf(next.outcome)).toBe("alive");
  });
});
