/**
 * Pipelined appends through a real executor (docs/bridge-protocol.md, "Pipelined appends"): a DuckDB
 * `load(rows, {mode: "append"})` of more than PART_ROWS rows goes as parts; the table, its types and the errors
 * are the ones the same rows sent at once give, a failed or abandoned load leaves the target as it was, and a
 * hostile guest's parts are refused with TAU_E_ codes.
 */
import { describe, expect, it } from "vitest";
import { PART_ROWS } from "../../runtime/sdk/row-batch-parts";
import type { RunOutcome } from "../../sandbox/types";
import { pipelineFile, policyWith, runSource, startSource, useHostilePool, waitFor } from "./helpers";

function resultOf(outcome: RunOutcome): unknown {
  if (outcome.status !== "succeeded") throw new Error(`run ${outcome.status}: ${JSON.stringify(outcome.error)}`);
  return outcome.result;
}

/** Guest helpers: `raw(op, text)` sends through the leaked dispatch and waits for the answer (polling another connector). */
const RAW = `
  const leak = (globalThis as any).__leak;
  await using poller = duckdb_local("poll.duckdb");
  await poller.execute("SELECT 1"); // opened first: the poller is h1, the pipeline's db h2
  let rawId = 900000;
  const raw = async (op: string, text: string) => {
    const id = ++rawId;
    leak.dispatch(id, op, text);
    for (let i = 0; i < 2000; i++) {
      const hit = leak.answers.find((a: any[]) => a[0] === id);
      if (hit) return JSON.parse(hit[1]);
      await poller.execute("SELECT 1");
    }
    return "no answer";
  };
  const viaRows = async (table: string, rows: unknown[]) => {
    const a = await raw("connector.call", JSON.stringify({ handle: "h2", method: "load", args: [rows, { table, mode: "append" }] }));
    return a.ok ? a.value : a.error.code + ": " + a.error.message;
  };
  const acks = () => leak.answers.filter((a: any[]) => a[1] === '{"ok":true,"value":{}}').length;
`;

describe("pipelined DuckDB appends through the real executor", () => {
  const hostile = useHostilePool();

  it("gives the tables, types and counts that the same rows sent at once give: missing table, existing table, a new field in a later part", async () => {
    const source = pipelineFile(`${RAW}
  await using db = duckdb_local("same.duckdb");
  const rows: any[] = [];
  for (let i = 0; i < 60000; i++) {
    rows.push({ id: i, name: i % 7 === 0 ? null : "n" + i, amount: i / 4, ...(i >= 30000 ? { flag: i % 2 === 0 } : {}), ...(i >= 52000 ? { late: i % 3 === 0 ? 1.5 : i } : {}) });
  }
  const plain = rows.map((r) => ({ id: r.id, name: r.name, amount: r.amount }));
  const out: Record<string, unknown> = {};
  const compare = async (a: string, b: string) => ({
    same: JSON.stringify(await db.extract("SELECT * FROM " + a + " ORDER BY id")) === JSON.stringify(await db.extract("SELECT * FROM " + b + " ORDER BY id")),
    schema: JSON.stringify(await db.getSchema(a)) === JSON.stringify(await db.getSchema(b)) ? (await db.getSchema(a)).map((c: any) => c.name + " " + c.type).join(", ") : "differs",
    n: (await db.extract("SELECT count(*) AS n FROM " + a))[0].n,
  });
  let before = acks();
  out.missingLoaded = await db.load(rows, { table: "p_new" });
  out.missingAcks = acks() - before;
  out.missingRows = await viaRows("r_new", rows);
  out.missing = await compare("p_new", "r_new");
  for (const t of ["p_old", "r_old"]) await db.execute("CREATE TABLE " + t + " (id INTEGER, name VARCHAR, amount DOUBLE)");
  before = acks();
  out.existingLoaded = await db.load(plain, { table: "p_old" });
  out.existingAcks = acks() - before;
  await viaRows("r_old", plain);
  out.existing = await compare("p_old", "r_old");
  out.widenedLoaded = await db.load(rows, { table: "p_old" });
  await viaRows("r_old", rows);
  out.widened = await compare("p_old", "r_old");
  // Two loads at once on one connector queue in the guest.
  const both = await Promise.all([db.load(plain, { table: "p_two" }), db.load(plain, { table: "p_two" })]);
  out.both = both;
  out.two = (await db.extract("SELECT count(*) AS n FROM p_two"))[0].n;
  return out;`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const r = resultOf(outcome) as Record<string, any>;
    expect(r.missingLoaded).toBe(60000);
    expect(r.missingRows).toBe(60000);
    expect(r.missingAcks).toBe(Math.ceil(60000 / PART_ROWS)); // one answer per part
    expect(r.missing).toEqual({ same: true, schema: "id BIGINT, name VARCHAR, amount DOUBLE, flag BOOLEAN, late DOUBLE", n: 60000 });
    expect(r.existingLoaded).toBe(60000);
    expect(r.existingAcks).toBe(Math.ceil(60000 / PART_ROWS));
    expect(r.existing).toEqual({ same: true, schema: "id INTEGER, name VARCHAR, amount DOUBLE", n: 60000 });
    expect(r.widenedLoaded).toBe(60000);
    expect(r.widened).toEqual({ same: true, schema: "id INTEGER, name VARCHAR, amount DOUBLE, flag BOOLEAN, late DOUBLE", n: 120000 });
    expect(r.both).toEqual([60000, 60000]);
    expect(r.two).toBe(120000);
  });

  it("a type conflict in a later part fails with the one-batch error and leaves the table as it was", async () => {
    const source = pipelineFile(`${RAW}
  await using db = duckdb_local("conflict.duckdb");
  for (const t of ["p_c", "r_c"]) {
    await db.execute("CREATE TABLE " + t + " (id INTEGER, amount DOUBLE)");
    await db.execute("INSERT INTO " + t + " VALUES (-1, 0)");
  }
  const rows: any[] = [];
  // Part 2 holds a bad amount; part 3 a bad id — one batch reports the id column first.
  for (let i = 0; i < 60000; i++) rows.push({ id: i === 52000 ? "x" : i, amount: i === 30000 ? "bad" : i / 2 });
  let piped = "";
  try { await db.load(rows, { table: "p_c" }); } catch (err: any) { piped = err.code + ": " + err.message; }
  const single = await viaRows("r_c", rows);
  return { piped, single, counts: [(await db.extract("SELECT count(*) AS n FROM p_c"))[0].n, (await db.extract("SELECT count(*) AS n FROM r_c"))[0].n],
    after: await db.load(rows.slice(0, 26000).map((r, i) => ({ id: i, amount: 1 })), { table: "p_c" }) };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const r = resultOf(outcome) as Record<string, any>;
    expect(r.piped).toMatch(/^TAU_E_CONNECTOR_TYPE_MISMATCH: Column 'id' of p_c is INTEGER; row 52000 has/);
    expect(r.piped.replace("p_c", "r_c")).toBe(r.single);
    expect(r.counts).toEqual([1, 1]);
    expect(r.after).toBe(26000);
  });

  it("parts add up against bridgeBytes like one payload: past it, the rows go as objects and nothing is loaded twice", async () => {
    // 8 bytes of a double (≈15 in UTF-8) per row as columns, 10 characters per row as JSON objects.
    const source = pipelineFile(`
  await using db = duckdb_local("parts-limit.duckdb");
  const loaded = await db.load(Array.from({ length: 60000 }, () => ({ a: 0.1 })), { table: "small" });
  let refused = "";
  try { await db.load(Array.from({ length: 90000 }, () => ({ a: 0.1 })), { table: "small" }); } catch (err: any) { refused = err.code; }
  return { loaded, refused, count: (await db.extract("SELECT count(*) AS n FROM small"))[0] };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path, policy: policyWith({ bridgeBytes: 700_000 }) });
    expect(resultOf(outcome)).toEqual({ loaded: 60000, refused: "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", count: { n: 60000 } });
  });

  it("a run that ends mid-load rolls the load back; the file and connector are usable by the next run", async () => {
    const header = (rows: number, part: number, load: string) =>
      JSON.stringify({ handle: "h2", options: { table: "t", mode: "append" }, rows, columns: [["id", "n", 5]], load, part });
    const first = pipelineFile(`${RAW}
  await using db = duckdb_local("ends.duckdb");
  await db.execute("CREATE TABLE t (id INTEGER)");
  await db.execute("INSERT INTO t VALUES (1)");
  const a = await raw("connector.load", ${JSON.stringify(header(2, 1, "x1"))} + "\\n[3,4]");
  if (!a.ok) return a;
  throw new Error("gone mid-load");`);
    const one = await runSource(hostile.pool, first, { dataDir: hostile.dir.path });
    expect(one.outcome.status).toBe("failed");
    const second = pipelineFile(`
  await using db = duckdb_local("ends.duckdb");
  const before = await db.extract("SELECT id FROM t ORDER BY id");
  const loaded = await db.load(Array.from({ length: 30000 }, (_, i) => ({ id: 10 + i })), { table: "t" });
  return { before, loaded, n: (await db.extract("SELECT count(*) AS n FROM t"))[0].n };`);
    const two = await runSource(hostile.pool, second, { dataDir: hostile.dir.path });
    expect(resultOf(two.outcome)).toEqual({ before: [{ id: 1 }], loaded: 30000, n: 30001 });
  });

  it("cancelling a run mid-load (parts taken, no final call) rolls the load back; the next run loads into the same file", async () => {
    const header = JSON.stringify({ handle: "h2", options: { table: "t", mode: "append" }, rows: 2, columns: [["id", "n", 5]], load: "k1", part: 1 });
    const started = await startSource(
      hostile.pool,
      pipelineFile(`${RAW}
  await using db = duckdb_local("cancel.duckdb");
  await db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER)");
  await db.execute("INSERT INTO t VALUES (1)");
  const a = await raw("connector.load", ${JSON.stringify(header)} + "\\n[3,4]");
  ctx.log.info("part taken: " + JSON.stringify(a));
  while (true) {}`),
      { dataDir: hostile.dir.path },
    );
    await waitFor(() => started.events.some((e) => JSON.stringify(e).includes("part taken")), 20_000, "the part to be taken");
    expect(JSON.stringify(started.events)).toContain('part taken: {\\"ok\\":true,\\"value\\":{}}');
    expect(hostile.pool.cancel(started.job.runId)).toBe(true);
    expect((await started.done).status).toBe("cancelled");
    const next = pipelineFile(`
  await using db = duckdb_local("cancel.duckdb");
  const before = await db.extract("SELECT id FROM t ORDER BY id");
  const loaded = await db.load(Array.from({ length: 30000 }, (_, i) => ({ id: 10 + i })), { table: "t" });
  return { before, loaded, n: (await db.extract("SELECT count(*) AS n FROM t"))[0].n };`);
    const two = await runSource(hostile.pool, next, { dataDir: hostile.dir.path });
    expect(resultOf(two.outcome)).toEqual({ before: [{ id: 1 }], loaded: 30000, n: 30001 });
  });

  it("refuses a hostile guest's parts with TAU_E_ codes and never writes half a load", async () => {
    const source = pipelineFile(`${RAW}
  await using db = duckdb_local("hostile-parts.duckdb");
  await db.execute("CREATE TABLE t (id INTEGER)");
  const options = { table: "t", mode: "append" };
  const part = (load: string, n: number, ids: number[], handle = "h2") =>
    JSON.stringify({ handle, options, rows: ids.length, columns: [["id", "n", JSON.stringify(ids).length]], load, part: n }) + "\\n" + JSON.stringify(ids);
  const end = (load: string, parts: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ handle: "h2", load, parts, ...extra });
  const code = (a: any) => (a.ok ? "ok " + JSON.stringify(a.value) : a.error.code);
  const out: Record<string, string> = {};
  out.unknownLoad = code(await raw("connector.load", part("u1", 2, [1])));
  out.endWithoutParts = code(await raw("connector.loadEnd", end("u2", 0)));
  out.a1part1 = code(await raw("connector.load", part("a1", 1, [10, 11])));
  out.a1end = code(await raw("connector.loadEnd", end("a1", 1)));
  out.partAfterEnd = code(await raw("connector.load", part("a1", 2, [12])));
  out.endTwice = code(await raw("connector.loadEnd", end("a1", 1)));
  out.b1part1 = code(await raw("connector.load", part("b1", 1, [20])));
  out.interleaved = code(await raw("connector.load", part("b2", 1, [21])));
  out.b1end = code(await raw("connector.loadEnd", end("b1", 1)));
  out.c1part1 = code(await raw("connector.load", part("c1", 1, [30])));
  out.lyingCount = code(await raw("connector.loadEnd", end("c1", 3)));
  out.d1part1 = code(await raw("connector.load", part("d1", 1, [40])));
  out.skippedPart = code(await raw("connector.load", part("d1", 3, [41])));
  out.d1end = code(await raw("connector.loadEnd", end("d1", 1)));
  out.e1part1 = code(await raw("connector.load", part("e1", 1, [50])));
  out.malformedPart = code(await raw("connector.load", part("e1", 2, [51]).replace('"rows":1', '"rows":2')));
  out.e1end = code(await raw("connector.loadEnd", end("e1", 2)));
  out.f1part1 = code(await raw("connector.load", part("f1", 1, [60])));
  out.f1abort = code(await raw("connector.loadEnd", end("f1", 1, { abort: true })));
  out.otherHandle = code(await raw("connector.load", part("g1", 1, [70], "h9")));
  out.badPartNumber = code(await raw("connector.load", part("g2", 0, [70])));
  const ids = (await db.extract("SELECT id FROM t ORDER BY id")).map((r: any) => r.id);
  return { out, ids };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const r = resultOf(outcome) as { out: Record<string, string>; ids: number[] };
    const INVALID = "TAU_E_BRIDGE_PAYLOAD_INVALID";
    expect(r.out).toEqual({
      unknownLoad: INVALID,
      endWithoutParts: INVALID,
      a1part1: "ok {}",
      a1end: "ok 2",
      partAfterEnd: INVALID,
      endTwice: INVALID,
      b1part1: "ok {}",
      interleaved: INVALID,
      b1end: "ok 1",
      c1part1: "ok {}",
      lyingCount: INVALID,
      d1part1: "ok {}",
      skippedPart: INVALID,
      d1end: INVALID,
      e1part1: "ok {}",
      malformedPart: INVALID,
      e1end: INVALID,
      f1part1: "ok {}",
      f1abort: "ok null",
      otherHandle: "TAU_E_CONNECTOR_CLOSED",
      badPartNumber: INVALID,
    });
    expect(r.ids).toEqual([10, 11, 20]);
  });
});
