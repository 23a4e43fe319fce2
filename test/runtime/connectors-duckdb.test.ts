import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, HOSTED_DEFAULT_POLICY, LOCAL_POLICY, type Policy } from "../../policies";
import { ConnectorHost, RawJson, type ConnectorContext, type HostConnector } from "../../runtime/connectors";

const root = mkdtempSync(join(tmpdir(), "tau-duckdb-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let host: ConnectorHost;
let dataDir: string;
let n = 0;
const open: HostConnector[] = [];

function ctx(policy: Policy = LOCAL_POLICY, limits = policy.limits): ConnectorContext {
  return { dataDir, policy, limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<HostConnector> {
  const c = await host.open("duckdb_local", options, context);
  open.push(c);
  return c;
}

async function extract(c: HostConnector, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const value = await c.call("extract", [sql, params]);
  return JSON.parse((value as RawJson).text) as Record<string, unknown>[];
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

describe("duckdb_local: loading", () => {
  it("append creates a missing table from the rows' inferred types and returns the rows loaded", async () => {
    const db = await connect();
    const rows = [
      { id: 1, name: "a", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123456Z", local: "2024-01-02 03:04:05", tags: ["x"], extra: null },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", at: null, local: "2024-02-03T00:00:00", tags: { a: 1 }, extra: null },
    ];
    expect(await db.call("load", [rows, { table: "orders" }])).toBe(2);
    expect(await db.call("getSchema", ["orders"])).toEqual([
      { name: "id", type: "BIGINT", nullable: true },
      { name: "name", type: "VARCHAR", nullable: true },
      { name: "price", type: "DOUBLE", nullable: true },
      { name: "paid", type: "BOOLEAN", nullable: true },
      { name: "day", type: "DATE", nullable: true },
      { name: "at", type: "TIMESTAMP WITH TIME ZONE", nullable: true },
      { name: "local", type: "TIMESTAMP", nullable: true },
      { name: "tags", type: "JSON", nullable: true },
      { name: "extra", type: "VARCHAR", nullable: true },
    ]);
    expect(await extract(db, "SELECT * FROM orders ORDER BY id")).toEqual([
      { id: 1, name: "a", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123456Z", local: "2024-01-02T03:04:05.000Z", tags: ["x"], extra: null },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", at: null, local: "2024-02-03T00:00:00.000Z", tags: { a: 1 }, extra: null },
    ]);
    expect(existsSync(join(dataDir, "warehouse.duckdb"))).toBe(true);
  });

  it("append adds to an existing table, casting to its column types, and fills missing columns with NULL", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE t (id INTEGER, amount DECIMAL(10,2), day DATE, note VARCHAR)"]);
    expect(await db.call("load", [[{ id: 1, amount: 9.99, day: "2024-05-01" }], { table: "t", mode: "append" }])).toBe(1);
    expect(await db.call("load", [[{ id: "2", amount: "1.25", note: 7 }], { table: "t" }])).toBe(1);
    expect(await extract(db, "SELECT * FROM t ORDER BY id")).toEqual([
      { id: 1, amount: 9.99, day: "2024-05-01", note: null },
      { id: 2, amount: 1.25, day: null, note: "7" },
    ]);
  });

  it("replace swaps a table's rows in one transaction: a concurrent reader sees the old rows or the new ones, never a mix", async () => {
    const writer = await connect();
    const reader = await connect();
    const batch = (size: number, tag: string) => Array.from({ length: size }, (_, i) => ({ id: i, tag }));
    await writer.call("load", [batch(20_000, "old"), { table: "swap", mode: "replace" }]);
    const seen = new Set<string>();
    let writing = true;
    const readLoop = (async () => {
      while (writing) {
        const [row] = await extract(reader, "SELECT count(*) AS n, min(tag) AS lo, max(tag) AS hi FROM swap");
        seen.add(`${row.n}:${row.lo}:${row.hi}`);
      }
    })();
    for (let i = 0; i < 4; i++) {
      await writer.call("load", [batch(i % 2 === 0 ? 5_000 : 20_000, i % 2 === 0 ? "new" : "old"), { table: "swap", mode: "replace" }]);
    }
    writing = false;
    await readLoop;
    for (const s of seen) expect(["20000:old:old", "5000:new:new"]).toContain(s);
  });

  it("a failed load leaves the table as it was, in append and in replace mode", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE keep (id BIGINT PRIMARY KEY, v VARCHAR)"]);
    await db.call("load", [[{ id: 1, v: "a" }, { id: 2, v: "b" }], { table: "keep" }]);
    const mismatch = await failure(db.call("load", [[{ id: 3, v: "c" }, { id: "not a number", v: "d" }], { table: "keep", mode: "replace" }]));
    expect(mismatch).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { table: "keep", mode: "replace", column: "id" } });
    const duplicate = await failure(db.call("load", [[{ id: 3, v: "c" }, { id: 1, v: "again" }], { table: "keep" }]));
    expect(duplicate.code).toBe("TAU_E_CONNECTOR_CONSTRAINT");
    expect(await extract(db, "SELECT * FROM keep ORDER BY id")).toEqual([
      { id: 1, v: "a" },
      { id: 2, v: "b" },
    ]);
  });

  it("concurrent loads from several handles that all create the same table all land (conflicting transactions are retried)", async () => {
    const handles = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const counts = await Promise.all(handles.map((h, i) => h.call("load", [[{ writer: i }, { writer: i }], { table: "raced.rows" }])));
    expect(counts).toEqual(Array(6).fill(2));
    expect(await extract(handles[0], "SELECT count(*) AS n, count(DISTINCT writer) AS writers FROM raced.rows")).toEqual([{ n: 12, writers: 6 }]);
  });

  it("schema-qualified table names work, and load creates the missing schema", async () => {
    const db = await connect();
    expect(await db.call("load", [[{ id: 1 }], { table: "analytics.orders" }])).toBe(1);
    expect(await db.call("load", [[{ id: 2 }], { table: '"Raw Data"."My Orders"' }])).toBe(1);
    expect(await extract(db, 'SELECT * FROM analytics.orders UNION ALL SELECT * FROM "Raw Data"."My Orders" ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await db.call("getSchema", ["analytics.orders"])).toEqual([{ name: "id", type: "BIGINT", nullable: true }]);
  });

  it("loads 100k rows in bulk through the appender", async () => {
    const db = await connect();
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: `row ${i}`, value: i / 3 }));
    expect(await db.call("load", [rows, { table: "bulk" }])).toBe(100_000);
    expect(await extract(db, "SELECT count(*) AS n, sum(id) AS s FROM bulk")).toEqual([{ n: 100_000, s: 4_999_950_000 }]);
  });

  it("refuses bad load arguments with TAU_E_CONNECTOR_ARGS_INVALID before touching the database", async () => {
    const db = await connect();
    const cases: unknown[][] = [
      [[{ id: 1 }], { table: "t", mode: "upsert" }],
      ["rows", { table: "t" }],
      [[1, 2], { table: "t" }],
      [[{ id: 1 }], { table: "t; DROP TABLE x" }],
      [[{ id: 1 }], { table: "a.b.c.d" }],
      [[{ id: 1 }], null],
    ];
    for (const args of cases) expect((await failure(db.call("load", args))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(db.call("drop", []))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });
});

describe("duckdb_local: querying", () => {
  it("extract converts BIGINT to a number when safe and a string otherwise, DECIMAL to a number, dates and timestamps to ISO strings", async () => {
    const db = await connect({ path: ":memory:" });
    const [row] = await extract(
      db,
      `SELECT 42::BIGINT AS small, 9007199254740993::BIGINT AS big, 123.45::DECIMAL(10,2) AS dec, DATE '2024-03-01' AS d,
              TIMESTAMP '2024-03-01 12:00:00.5' AS ts, TIMESTAMPTZ '2024-03-01 12:00:00+00' AS tz, 170141183460469231731687303715884105727::HUGEINT AS huge,
              [1, 2]::BIGINT[] AS list, {'a': 1::BIGINT} AS s, $1 AS p1, $2::INTEGER + 1 AS p2`,
      ["x", 41],
    );
    expect(row).toEqual({
      small: 42,
      big: "9007199254740993",
      dec: 123.45,
      d: "2024-03-01",
      ts: "2024-03-01T12:00:00.500Z",
      tz: "2024-03-01T12:00:00.000Z",
      huge: "170141183460469231731687303715884105727",
      list: [1, 2],
      s: { a: 1 },
      p1: "x",
      p2: 42,
    });
  });

  it("execute returns the rows affected", async () => {
    const db = await connect({ path: ":memory:" });
    await db.call("execute", ["CREATE TABLE t AS SELECT range AS id FROM range(10)"]);
    expect(await db.call("execute", ["DELETE FROM t WHERE id < $1", [4]])).toEqual({ rowsAffected: 4 });
  });

  it("an extract returning more rows than limits.extractRows fails with TAU_E_CONNECTOR_RESULT_TOO_LARGE", async () => {
    const db = await connect({ path: ":memory:" }, ctx(LOCAL_POLICY, { ...DEFAULT_LIMITS, extractRows: 100 }));
    expect(await extract(db, "SELECT * FROM range(100)")).toHaveLength(100);
    expect(await failure(db.call("extract", ["SELECT * FROM range(5000)", []]))).toMatchObject({
      code: "TAU_E_CONNECTOR_RESULT_TOO_LARGE",
      details: { limitRows: 100, sql: "SELECT * FROM range(5000)" },
    });
  });

  it("DuckDB's errors become Tau codes with the SQL in details", async () => {
    const db = await connect({ path: ":memory:" });
    await db.call("execute", ["CREATE TABLE k (id INTEGER PRIMARY KEY)"]);
    const cases: Array<[string, string]> = [
      ["SELEC 1", "TAU_E_CONNECTOR_SYNTAX"],
      ["SELECT * FROM missing_table", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"],
      ["SELECT missing_column FROM k", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"],
      ["SELECT 'abc'::INTEGER", "TAU_E_CONNECTOR_TYPE_MISMATCH"],
      ["INSERT INTO k VALUES (1), (1)", "TAU_E_CONNECTOR_CONSTRAINT"],
      ["SELECT * FROM read_csv('/nonexistent-tau/x.csv')", "TAU_E_CONNECTOR_IO"],
      ["SELECT error('custom failure')", "TAU_E_CONNECTOR_QUERY_FAILED"],
    ];
    for (const [sql, code] of cases) {
      const err = await failure(db.call("execute", [sql]));
      expect({ sql, code: err.code }).toEqual({ sql, code });
      expect(err.details.sql).toBe(sql);
    }
    const long = `SELECT * FROM missing_table WHERE x = '${"y".repeat(2000)}'`;
    expect(String((await failure(db.call("extract", [long, []]))).details.sql).length).toBeLessThan(600);
    expect((await failure(db.call("getSchema", ["nope"]))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
  });

  it("a handle refuses calls after it is closed", async () => {
    const db = await connect({ path: ":memory:" });
    await db.close();
    expect((await failure(db.call("extract", ["SELECT 1", []]))).code).toBe("TAU_E_CONNECTOR_CLOSED");
  });
});

describe("duckdb_local: paths and policy", () => {
  it("a relative path resolves under dataDir and an absolute path outside it needs duckdbAnyPath", async () => {
    const hosted = ctx(HOSTED_DEFAULT_POLICY);
    const db = await connect({ path: "sub/dir/data.duckdb" }, hosted);
    await db.call("execute", ["CREATE TABLE t AS SELECT 1 AS x"]);
    expect(existsSync(join(dataDir, "sub", "dir", "data.duckdb"))).toBe(true);
    for (const path of [join(root, "outside.duckdb"), "../escape.duckdb"]) {
      expect(await failure(connect({ path }, hosted))).toMatchObject({ code: "TAU_E_POLICY_DENIED", details: { rule: "duckdbAnyPath" } });
    }
    const anywhere = await connect({ path: join(root, "outside.duckdb") }, ctx(LOCAL_POLICY));
    await anywhere.call("execute", ["CREATE TABLE t AS SELECT 1 AS x"]);
    expect(existsSync(join(root, "outside.duckdb"))).toBe(true);
  });

  it("without duckdbAnyPath, SQL cannot read or write other files either", async () => {
    const db = await connect({ path: ":memory:" }, ctx(HOSTED_DEFAULT_POLICY));
    expect(await failure(db.call("extract", ["SELECT * FROM read_csv('/etc/hostname')", []]))).toMatchObject({
      code: "TAU_E_POLICY_DENIED",
      details: { rule: "duckdbAnyPath" },
    });
    expect((await failure(db.call("execute", [`COPY (SELECT 1) TO '${join(root, "leak.csv")}'`]))).code).toBe("TAU_E_POLICY_DENIED");
    expect(existsSync(join(root, "leak.csv"))).toBe(false);
  });

  it("refuses unknown options", async () => {
    expect((await failure(connect({ file: "x.duckdb" }))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("handles on one file share one DuckDB instance, which closes when the last handle closes", async () => {
    const a = await connect();
    const b = await connect({ path: "warehouse.duckdb" });
    expect(host.duckdbInstances.openFiles()).toEqual([{ path: join(dataDir, "warehouse.duckdb"), refs: 2 }]);
    await a.call("execute", ["CREATE TABLE shared AS SELECT 1 AS x"]);
    expect(await extract(b, "SELECT x FROM shared")).toEqual([{ x: 1 }]);
    await a.close();
    expect(host.duckdbInstances.openFiles()).toEqual([{ path: join(dataDir, "warehouse.duckdb"), refs: 1 }]);
    await b.close();
    expect(host.duckdbInstances.openFiles()).toEqual([]);
  });
});
