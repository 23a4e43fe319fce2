/**
 * duckdb_local's load modes and streaming on the host side, against real DuckDB files: upsert (with and
 * without a key constraint), schema evolution, type conflicts, atomic replace with a changed shape, cursors,
 * and loadFrom fed by another file's cursor.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import {
  ConnectorHost,
  RawJson,
  type ConnectorContext,
  type HostConnector,
  type LoadingConnector,
  type RowSource,
  type StreamingConnector,
} from "../../runtime/connectors";

const root = mkdtempSync(join(tmpdir(), "tau-duckdb-load-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let host: ConnectorHost;
let dataDir: string;
let n = 0;
const open: HostConnector[] = [];

const ctx = (): ConnectorContext => ({ dataDir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });

async function connect(path = "warehouse.duckdb"): Promise<HostConnector & StreamingConnector & LoadingConnector> {
  const c = await host.open("duckdb_local", { path }, ctx());
  open.push(c);
  return c as HostConnector & StreamingConnector & LoadingConnector;
}

async function rows(c: HostConnector, sql: string): Promise<Record<string, unknown>[]> {
  return JSON.parse(((await c.call("extract", [sql, []])) as RawJson).text) as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

beforeEach(() => {
  host = new ConnectorHost();
  dataDir = join(root, `tenant-${++n}`);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  host.close();
});

describe("duckdb_local upsert", () => {
  it("creates the table with a primary key on the mergeKey, and running the same upsert twice leaves the same table", async () => {
    const db = await connect();
    const batch = [
      { id: 1, name: "a", score: 1.5 },
      { id: 2, name: "b", score: 2.5 },
    ];
    expect(await db.call("load", [batch, { table: "people", mode: "upsert", mergeKey: "id" }])).toBe(2);
    const first = await rows(db, "SELECT * FROM people ORDER BY id");
    expect(await db.call("load", [batch, { table: "people", mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await rows(db, "SELECT * FROM people ORDER BY id")).toEqual(first);
    expect(await rows(db, "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'people' AND constraint_type = 'PRIMARY KEY'")).toEqual([
      { constraint_type: "PRIMARY KEY" },
    ]);
  });

  it("updates matching rows, inserts new ones, and the last of two staged rows with the same key wins", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, name: "a" }, { id: 2, name: "b" }], { table: "p", mode: "upsert", mergeKey: ["id"] }]);
    await db.call("load", [[{ id: 2, name: "B" }, { id: 3, name: "c" }, { id: 3, name: "C" }], { table: "p", mode: "upsert", mergeKey: "id" }]);
    expect(await rows(db, "SELECT * FROM p ORDER BY id")).toEqual([
      { id: 1, name: "a" },
      { id: 2, name: "B" },
      { id: 3, name: "C" },
    ]);
  });

  it("an existing table without a key constraint is upserted by delete and insert in one transaction, idempotently, on a composite key", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE sales (region VARCHAR, day DATE, amount DOUBLE)"]);
    await db.call("execute", ["INSERT INTO sales VALUES ('eu', '2024-01-01', 1), ('us', '2024-01-01', 2)"]);
    const batch = [
      { region: "eu", day: "2024-01-01", amount: 10 },
      { region: "eu", day: "2024-01-02", amount: 20 },
    ];
    for (let i = 0; i < 2; i++) {
      expect(await db.call("load", [batch, { table: "sales", mode: "upsert", mergeKey: ["region", "day"] }])).toBe(2);
    }
    expect(await rows(db, "SELECT region, day, amount FROM sales ORDER BY region, day")).toEqual([
      { region: "eu", day: "2024-01-01", amount: 10 },
      { region: "eu", day: "2024-01-02", amount: 20 },
      { region: "us", day: "2024-01-01", amount: 2 },
    ]);
  });

  it("a mergeKey missing, or naming a column the rows lack, is TAU_E_CONNECTOR_ARGS_INVALID naming the key, and nothing is created", async () => {
    const db = await connect();
    expect(await failure(db.call("load", [[{ id: 1 }], { table: "k", mode: "upsert" }]))).toMatchObject({
      code: "TAU_E_CONNECTOR_ARGS_INVALID",
      details: { option: "mergeKey" },
    });
    const absent = await failure(db.call("load", [[{ id: 1, name: "x" }], { table: "k", mode: "upsert", mergeKey: ["id", "tenant"] }]));
    expect(absent).toMatchObject({ code: "TAU_E_CONNECTOR_ARGS_INVALID", details: { column: "tenant", mergeKey: ["id", "tenant"] } });
    expect(absent.message).toContain("'tenant'");
    expect((await failure(db.call("getSchema", ["k"]))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
  });
});

describe("duckdb_local schema evolution and type conflicts", () => {
  it("new fields in the rows add columns to the existing table (append and upsert)", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, name: "a" }], { table: "grow", mode: "upsert", mergeKey: "id" }]);
    await db.call("load", [[{ id: 2, name: "b", joined: "2024-02-03", vip: true }], { table: "grow" }]);
    await db.call("load", [[{ id: 1, score: 9.5 }], { table: "grow", mode: "upsert", mergeKey: "id" }]);
    expect((await db.call("getSchema", ["grow"])) as unknown[]).toEqual([
      { name: "id", type: "BIGINT", nullable: false },
      { name: "name", type: "VARCHAR", nullable: true },
      { name: "joined", type: "DATE", nullable: true },
      { name: "vip", type: "BOOLEAN", nullable: true },
      { name: "score", type: "DOUBLE", nullable: true },
    ]);
    expect(await rows(db, "SELECT * FROM grow ORDER BY id")).toEqual([
      { id: 1, name: "a", joined: null, vip: null, score: 9.5 },
      { id: 2, name: "b", joined: "2024-02-03", vip: true, score: null },
    ]);
  });

  it("a value that does not fit an existing column is TAU_E_CONNECTOR_TYPE_MISMATCH naming column and types, and the table is unchanged", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE typed (id INTEGER, seen_at TIMESTAMP, ok BOOLEAN)"]);
    await db.call("load", [[{ id: 1, seen_at: "2024-01-01T00:00:00", ok: true }], { table: "typed" }]);
    const before = await rows(db, "SELECT * FROM typed");
    const err = await failure(db.call("load", [[{ id: 2, seen_at: "2024-01-02T00:00:00", extra: 1 }, { id: "two", seen_at: "2024-01-03" }], { table: "typed" }]));
    expect(err).toMatchObject({
      code: "TAU_E_CONNECTOR_TYPE_MISMATCH",
      details: { column: "id", columnType: "INTEGER", row: 1, table: "typed", mode: "append" },
    });
    expect(err.message).toContain("'id'");
    expect(err.message).toContain("INTEGER");
    const outOfRange = await failure(db.call("load", [[{ id: 3_000_000_000 }], { table: "typed", mode: "upsert", mergeKey: "id" }]));
    expect(outOfRange).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { column: "id" } });
    expect(await rows(db, "SELECT * FROM typed")).toEqual(before);
    expect(((await db.call("getSchema", ["typed"])) as { name: string }[]).map((c) => c.name)).toEqual(["id", "seen_at", "ok"]);
  });
});

describe("duckdb_local append straight into an existing table", () => {
  it("gives the same values as DuckDB's own casts from the staging table", async () => {
    const db = await connect();
    const cols = "id INTEGER, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, ok BOOLEAN, big BIGINT, x DOUBLE, s VARCHAR";
    await db.call("execute", [`CREATE TABLE direct (${cols})`]);
    // A column with a DEFAULT sends the load through the staging table and INSERT … SELECT.
    await db.call("execute", [`CREATE TABLE staged (${cols}, pad INTEGER DEFAULT 0)`]);
    const batch = [
      { id: 1, d: "2024-02-29", ts: "2024-01-02T03:04:05.1234567Z", tz: "2024-01-02 03:04:05+02:00", ok: "true", big: "9007199254740993", x: "1.5", s: 7 },
      { id: "2", d: "2024-03-01T23:00:00-05:00", ts: "2024-01-02 03:04", tz: "2024-01-02T03:04:05.5", ok: 0, big: -3, x: 2, s: { a: [1] } },
      { id: 3, d: null, ts: "0099-12-31 23:59:59", tz: "2024-06-30", ok: false, big: null, x: -0.25, s: "plain" },
    ];
    await db.call("load", [batch, { table: "direct" }]);
    await db.call("load", [batch, { table: "staged" }]);
    expect(await rows(db, "SELECT * FROM direct ORDER BY id")).toEqual(await rows(db, "SELECT * EXCLUDE (pad) FROM staged ORDER BY id"));
  });

  it("a value the column cannot hold, or a key already there in a later batch, loads nothing", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE small (id BIGINT PRIMARY KEY, level TINYINT, day DATE)"]);
    await db.call("load", [[{ id: 1, level: 1, day: "2024-01-01" }], { table: "small" }]);
    expect(await failure(db.call("load", [[{ id: 2, level: 300 }], { table: "small" }]))).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { column: "level" } });
    expect(await failure(db.call("load", [[{ id: 2, day: "2024-02-30" }], { table: "small" }]))).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { column: "day" } });
    const source: RowSource = {
      async *[Symbol.asyncIterator]() {
        yield Array.from({ length: 5000 }, (_, i) => ({ id: i + 10, level: 2 }));
        yield [{ id: 1, level: 3 }];
      },
    };
    expect((await failure(db.loadFrom(source, { table: "small", mode: "append", mergeKey: null }))).code).toBe("TAU_E_CONNECTOR_CONSTRAINT");
    expect(await rows(db, "SELECT * FROM small")).toEqual([{ id: 1, level: 1, day: "2024-01-01" }]);
  });
});

describe("duckdb_local column vectors (several chunks per batch)", () => {
  const COLS = "id INTEGER, tiny TINYINT, small SMALLINT, big BIGINT, f FLOAT, x DOUBLE, s VARCHAR, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, ok BOOLEAN";
  const texts = ["plain", "naïve ☃ 𝄞", "nul \u0000 inside", "", " spaced "];
  // (Unsafe integers as numbers differ between the paths: the staging table takes JavaScript's text for them.)
  const bigs: unknown[] = [-(2 ** 52) - 7, 2 ** 53 - 1, "-9223372036854775808", "9223372036854775807", -1, 0, "42"];
  const row = (i: number): Record<string, unknown> => ({
    id: i,
    // NULLs only in the first chunk for some columns, only in the last for others, scattered for the rest.
    tiny: i < 2048 && i % 3 === 0 ? null : (i % 256) - 128,
    small: i >= 4096 ? null : String((i * 7) % 65536 - 32768),
    big: i % 11 === 0 ? null : bigs[i % bigs.length],
    f: i / 3,
    x: i % 5 === 0 ? `${i}.25` : -i / 7,
    s: i % 4 === 0 ? { n: i, t: texts[i % texts.length] } : i % 4 === 1 ? i * 1.5 : texts[i % texts.length],
    d: ["1969-12-31", "0099-01-01", "2024-02-29", "2024-03-01T23:00:00-05:00"][i % 4],
    ts: i % 13 === 0 ? undefined : `19${10 + (i % 80)}-06-30T12:34:56.${String(i).padStart(6, "0")}`,
    tz: `2024-01-02 03:04:05${["Z", "+02:00", "-0530", ""][i % 4]}`,
    ok: [true, false, "t", 0, 1, "FALSE"][i % 6],
  });

  it("5000 rows in one batch give the same values as DuckDB's own casts from the staging table", async () => {
    const db = await connect();
    await db.call("execute", [`CREATE TABLE direct (${COLS})`]);
    await db.call("execute", [`CREATE TABLE staged (${COLS}, pad INTEGER DEFAULT 0)`]);
    const batch = Array.from({ length: 5000 }, (_, i) => row(i));
    expect(await db.call("load", [batch, { table: "direct" }])).toBe(5000);
    expect(await db.call("load", [batch, { table: "staged" }])).toBe(5000);
    const direct = await rows(db, "SELECT * FROM direct ORDER BY id");
    expect(direct).toEqual(await rows(db, "SELECT * EXCLUDE (pad) FROM staged ORDER BY id"));
    expect(await rows(db, "SELECT count(tiny) AS tiny, count(small) AS small, count(ts) AS ts, min(big) AS lo, max(big) AS hi FROM direct")).toEqual([
      { tiny: 5000 - 683, small: 4096, ts: 5000 - 385, lo: "-9223372036854775808", hi: "9223372036854775807" },
    ]);
    expect(direct[1]).toMatchObject({ s: "1.5", d: "0099-01-01", ok: false });
    expect(direct[2]).toMatchObject({ s: "nul \u0000 inside", d: "2024-02-29", ok: true });
  });

  it("a value past its column's range in a later chunk is TAU_E_CONNECTOR_TYPE_MISMATCH naming the row, and nothing is loaded", async () => {
    const db = await connect();
    await db.call("execute", [`CREATE TABLE ranged (${COLS})`]);
    const tooBig = Array.from({ length: 5000 }, (_, i) => ({ ...row(i), tiny: i === 3000 ? 300 : 1 }));
    expect(await failure(db.call("load", [tooBig, { table: "ranged" }]))).toMatchObject({
      code: "TAU_E_CONNECTOR_TYPE_MISMATCH",
      details: { column: "tiny", columnType: "TINYINT", row: 3000, mode: "append" },
    });
    const pastInt64 = Array.from({ length: 2100 }, (_, i) => ({ id: i, big: i === 2099 ? 2 ** 63 : i }));
    expect(await failure(db.call("load", [pastInt64, { table: "ranged", mode: "upsert", mergeKey: "id" }]))).toMatchObject({
      code: "TAU_E_CONNECTOR_TYPE_MISMATCH",
      details: { column: "big", row: 2099, mode: "upsert" },
    });
    expect(await rows(db, "SELECT count(*) AS n FROM ranged")).toEqual([{ n: 0 }]);
  });
});

describe("duckdb_local replace", () => {
  it("replace with rows of another shape rebuilds the table atomically: a concurrent reader sees the old table or the new one", async () => {
    const writer = await connect();
    const reader = await connect();
    const narrow = (k: number) => Array.from({ length: 20_000 }, (_, i) => ({ id: i, tag: `old${k}` }));
    const wide = (k: number) => Array.from({ length: 5_000 }, (_, i) => ({ id: i, tag: `new${k}`, extra: i * 2 }));
    await writer.call("load", [narrow(0), { table: "shape", mode: "replace" }]);
    const seen = new Set<string>();
    let writing = true;
    const readLoop = (async () => {
      while (writing) {
        const [row] = await rows(reader, "SELECT count(*) AS n, count(DISTINCT tag) AS tags FROM shape");
        seen.add(`${row.n}:${row.tags}`);
      }
    })();
    for (let i = 1; i <= 4; i++) await writer.call("load", [i % 2 ? wide(i) : narrow(i), { table: "shape", mode: "replace" }]);
    writing = false;
    await readLoop;
    for (const s of seen) expect(["20000:1", "5000:1"]).toContain(s);
    expect(((await writer.call("getSchema", ["shape"])) as { name: string }[]).map((c) => c.name)).toEqual(["id", "tag"]);
  });
});

describe("duckdb_local cursors", () => {
  it("a cursor returns batches of exactly batchSize until the last, then null, and close is idempotent", async () => {
    const db = await connect(":memory:");
    const cursor = await db.openCursor("SELECT range AS i FROM range(5000)", [], 2000);
    const sizes: number[] = [];
    for (let batch = await cursor.next(); batch; batch = await cursor.next()) sizes.push(batch.length);
    expect(sizes).toEqual([2000, 2000, 1000]);
    expect(await cursor.next()).toBeNull();
    await cursor.close();
    await cursor.close();
  });

  it("other calls on the handle go on while a cursor is open", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT range AS i FROM range(100000)", [], 10);
    expect(await cursor.next()).toHaveLength(10);
    await db.call("execute", ["CREATE TABLE side AS SELECT 1 AS x"]);
    expect(await rows(db, "SELECT * FROM side")).toEqual([{ x: 1 }]);
    expect(await cursor.next()).toEqual(Array.from({ length: 10 }, (_, i) => ({ i: i + 10 })));
    await cursor.close();
  });

  it("loadFrom takes another file's cursor batch by batch, and a SQL error in the cursor is a Tau code", async () => {
    const src = await connect("src.duckdb");
    const dst = await connect("dst.duckdb");
    await src.call("execute", ["CREATE TABLE t AS SELECT range AS id, range % 7 AS bucket FROM range(30000)"]);
    const cursor = await src.openCursor("SELECT * FROM t", [], 4096);
    let batches = 0;
    const source: RowSource = {
      async *[Symbol.asyncIterator]() {
        for (let b = await cursor.next(); b; b = await cursor.next()) {
          batches++;
          yield b;
        }
      },
    };
    expect(await dst.loadFrom(source, { table: "copy", mode: "append", mergeKey: null })).toBe(30_000);
    expect(batches).toBe(8);
    expect(await rows(dst, "SELECT count(*) AS n, sum(bucket) AS s FROM copy")).toEqual([{ n: 30_000, s: (await rows(src, "SELECT sum(bucket) AS s FROM t"))[0].s }]);
    expect((await failure(src.openCursor("SELEC 1", [], 10))).code).toBe("TAU_E_CONNECTOR_SYNTAX");
  });

  it("a streamed load widens a column whose later batches hold other values", async () => {
    const db = await connect();
    const source: RowSource = {
      async *[Symbol.asyncIterator]() {
        yield [{ id: 1, v: 1 }];
        yield [{ id: 2, v: 2.5, note: "n" }];
        yield [{ id: 3, v: "text" }];
      },
    };
    expect(await db.loadFrom(source, { table: "wide", mode: "append", mergeKey: null })).toBe(3);
    expect(await db.call("getSchema", ["wide"])).toEqual([
      { name: "id", type: "BIGINT", nullable: true },
      { name: "v", type: "VARCHAR", nullable: true },
      { name: "note", type: "VARCHAR", nullable: true },
    ]);
    expect(await rows(db, "SELECT * FROM wide ORDER BY id")).toEqual([
      { id: 1, v: "1", note: null },
      { id: 2, v: "2.5", note: "n" },
      { id: 3, v: "text", note: null },
    ]);
  });
});
