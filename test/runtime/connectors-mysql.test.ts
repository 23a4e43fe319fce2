/**
 * The mysql connector's host driver against the real MariaDB on 127.0.0.1:3306 (root, no password). Each
 * run works in its own database `tau_mysql_test_<pid>` and drops it at the end.
 */
import { createServer, type Server } from "node:net";
import { createConnection, type Connection } from "mysql2/promise";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY, type Policy } from "../../policies";
import { ConnectorHost, RawJson, type ConnectorContext, type HostConnector } from "../../runtime/connectors";
import type { MysqlConnector } from "../../runtime/connectors/mysql";
import { convertMysqlError, mysqlCodeFor } from "../../runtime/connectors/mysql-errors";
import type { RowSource } from "../../runtime/connectors/types";
import { ERRORS } from "../../server/contract";

const DB = `tau_mysql_test_${process.pid}`;
const HOST = "127.0.0.1";
let admin: Connection;
let host: ConnectorHost;
const open: HostConnector[] = [];
let tableNo = 0;

function ctx(policy: Policy = LOCAL_POLICY, limits = policy.limits): ConnectorContext {
  return { dataDir: "/nonexistent", policy, limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<MysqlConnector> {
  const c = (await host.open("mysql", { host: HOST, user: "root", database: DB, ...options }, context)) as MysqlConnector;
  open.push(c);
  return c;
}

function table(): string {
  return `t${++tableNo}`;
}

async function extract(c: HostConnector, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const value = await c.call("extract", [sql, params]);
  return JSON.parse((value as RawJson).text) as Record<string, unknown>[];
}

async function adminRows(sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await admin.query(sql);
  return rows as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown>; hint: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown>; hint: string };
  }
  throw new Error("expected the call to fail");
}

function batches(...list: Record<string, unknown>[][]): RowSource {
  return {
    async *[Symbol.asyncIterator]() {
      for (const b of list) yield b;
    },
  };
}

beforeAll(async () => {
  admin = await createConnection({ host: HOST, user: "root" });
  await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``);
  await admin.query(`CREATE DATABASE \`${DB}\``);
  await admin.query(`USE \`${DB}\``);
  host = new ConnectorHost();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``);
  await admin.end();
  host.close();
});

describe("mysql: reading", () => {
  it("extract returns ISO dates, exact decimals, safe integers as numbers, booleans and parsed JSON", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [
      `CREATE TABLE ${t} (id BIGINT, small DECIMAL(10,2), huge DECIMAL(30,0), big BIGINT UNSIGNED, d DATE, dt DATETIME(6), ts TIMESTAMP(3) NULL, ` +
        `flag TINYINT(1), doc JSON, bin VARBINARY(4), note TEXT)`,
    ]);
    await db.call("execute", [
      `INSERT INTO ${t} VALUES (1, 12.50, 123456789012345678901234567890, 18446744073709551615, '2024-01-02', '2024-01-02 03:04:05.123456', ` +
        `'2024-05-06 07:08:09.120', 1, '{"a":[1,2]}', X'DEADBEEF', 'it''s ?'), (9007199254740993, NULL, NULL, 3, NULL, '2024-01-02 03:04:05', NULL, 0, NULL, NULL, NULL)`,
    ]);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY d IS NULL, id`)).toEqual([
      {
        id: 1,
        small: 12.5,
        huge: "123456789012345678901234567890",
        big: "18446744073709551615",
        d: "2024-01-02",
        dt: "2024-01-02T03:04:05.123456Z",
        ts: "2024-05-06T07:08:09.120Z",
        flag: true,
        doc: { a: [1, 2] },
        bin: "3q2+7w==",
        note: "it's ?",
      },
      { id: "9007199254740993", small: null, huge: null, big: 3, d: null, dt: "2024-01-02T03:04:05.000Z", ts: null, flag: false, doc: null, bin: null, note: null },
    ]);
  });

  it("parameters fill ? placeholders but not a ? inside a string literal, and a Date's ISO text compares as UTC", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (id INT, at DATETIME(3), note VARCHAR(20))`]);
    await db.call("execute", [`INSERT INTO ${t} VALUES (?, ?, ?), (?, ?, ?)`, [1, "2024-01-01 10:00:00", "a?b", 2, "2024-01-03 10:00:00", "it's"]]);
    const rows = await extract(db, `SELECT id, note, '?' AS q FROM ${t} WHERE at > ? AND note <> ? ORDER BY id`, ["2024-01-02T00:00:00.000Z", "x"]);
    expect(rows).toEqual([{ id: 2, note: "it's", q: "?" }]);
    expect((await failure(db.call("extract", ["SELECT ? AS a", []]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("execute reports rowsAffected and getSchema lists columns of table and database.table", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (id INT NOT NULL, doc JSON, name VARCHAR(10))`]);
    expect(await db.call("execute", [`INSERT INTO ${t} (id) VALUES (1), (2), (3)`])).toEqual({ rowsAffected: 3 });
    expect(await db.call("execute", [`DELETE FROM ${t} WHERE id > ?`, [1]])).toEqual({ rowsAffected: 2 });
    expect(await db.call("execute", ["SELECT seq FROM seq_1_to_100000"])).toEqual({ rowsAffected: null });
    const expected = [
      { name: "id", type: "int(11)", nullable: false },
      { name: "doc", type: "json", nullable: true },
      { name: "name", type: "varchar(10)", nullable: true },
    ];
    expect(await db.call("getSchema", [t])).toEqual(expected);
    expect(await db.call("getSchema", [`${DB}.${t}`])).toEqual(expected);
    const missing = await failure(db.call("getSchema", ["no_such_table"]));
    expect(missing.code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
  });

  it("an extract past the row cap fails clearly, stops the query, and leaves the handle usable", async () => {
    const db = await connect({}, ctx(LOCAL_POLICY, { ...LOCAL_POLICY.limits, extractRows: 100 }));
    const err = await failure(db.call("extract", ["SELECT seq FROM seq_1_to_10000000"]));
    expect(err.code).toBe("TAU_E_CONNECTOR_RESULT_TOO_LARGE");
    expect(err.details.limitRows).toBe(100);
    expect(await extract(db, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("a cursor streams a large result in batches on its own connection while the handle stays usable", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT seq AS n, CONCAT('row ', seq) AS label FROM seq_1_to_25000 ORDER BY seq", [], 1000);
    const first = await cursor.next();
    expect(first).toHaveLength(1000);
    expect(first![0]).toEqual({ n: 1, label: "row 1" });
    // Memory stays flat: the connection is paused once a batch is buffered, so no more rows pile up.
    await new Promise((r) => setTimeout(r, 100));
    expect((cursor as unknown as { buffer: unknown[] }).buffer.length).toBeLessThanOrEqual(1000);
    // The handle's own connection is free: a call on it does not wait for the stream.
    expect(await extract(db, "SELECT 2 AS two")).toEqual([{ two: 2 }]);
    let total = first!.length;
    let last = 0;
    for (;;) {
      const batch = await cursor.next();
      if (!batch) break;
      expect(batch.length).toBeLessThanOrEqual(1000);
      total += batch.length;
      last = batch[batch.length - 1].n as number;
    }
    expect(total).toBe(25000);
    expect(last).toBe(25000);
    expect(await cursor.next()).toBeNull();
  });

  it("closing a cursor early ends its query on the server", async () => {
    const db = await connect();
    const probe = `tau_cursor_probe_${process.pid}`;
    const running = async (): Promise<number> =>
      (await adminRows(`SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${probe}%' AND INFO NOT LIKE '%PROCESSLIST%'`)).length;
    const cursor = await db.openCursor(`SELECT /* ${probe} */ seq FROM seq_1_to_50000000`, [], 500);
    expect(await cursor.next()).toHaveLength(500);
    expect(await running()).toBe(1);
    await cursor.close();
    await cursor.close();
    for (let i = 0; i < 100 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await running()).toBe(0);
    expect(await cursor.next()).toBeNull();
  });
});

describe("mysql: load", () => {
  it("append creates a missing table from the rows' inferred types and returns the rows loaded", async () => {
    const db = await connect();
    const t = table();
    const rows = [
      { id: 1, name: "a\tb\\c'd\n", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123456Z", local: "2024-01-02 03:04:05", tags: ["x"], extra: null },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", at: "2024-02-03T01:00:00+02:00", local: null, tags: { a: 1 }, extra: null },
    ];
    expect(await db.call("load", [rows, { table: t }])).toBe(2);
    expect(await db.call("getSchema", [t])).toEqual([
      { name: "id", type: "bigint(20)", nullable: true },
      { name: "name", type: "longtext", nullable: true },
      { name: "price", type: "double", nullable: true },
      { name: "paid", type: "tinyint(1)", nullable: true },
      { name: "day", type: "date", nullable: true },
      { name: "at", type: "datetime(6)", nullable: true },
      { name: "local", type: "datetime(6)", nullable: true },
      { name: "tags", type: "json", nullable: true },
      { name: "extra", type: "longtext", nullable: true },
    ]);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY id`)).toEqual([
      { id: 1, name: "a\tb\\c'd\n", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123456Z", local: "2024-01-02T03:04:05.000Z", tags: ["x"], extra: null },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", at: "2024-02-02T23:00:00.000Z", local: null, tags: { a: 1 }, extra: null },
    ]);
  });

  it("append adds to an existing table, adds new fields as columns and fills missing ones with NULL", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (ID INT PRIMARY KEY, amount DECIMAL(10,2), note VARCHAR(20))`]);
    expect(await db.call("load", [[{ id: 1, amount: 9.99 }], { table: t, mode: "append" }])).toBe(1);
    expect(await db.call("load", [[{ id: "2", amount: "1.25", note: "n", fresh: "2024-03-04" }], { table: `${DB}.${t}` }])).toBe(1);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY ID`)).toEqual([
      { ID: 1, amount: 9.99, note: null, fresh: null },
      { ID: 2, amount: 1.25, note: "n", fresh: "2024-03-04" },
    ]);
  });

  it("a type conflict names the column and leaves the table unchanged, new columns included", async () => {
    const db = await connect();
    const t = table();
    await db.call("load", [[{ id: 1, amount: 10 }], { table: t }]);
    const err = await failure(db.call("load", [[{ id: 2, amount: 5, added: "x" }, { id: "three", amount: 1, added: "y" }], { table: t }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details).toMatchObject({ column: "id", row: 1, table: t });
    expect((await db.call("getSchema", [t]) as { name: string }[]).map((c) => c.name)).toEqual(["id", "amount"]);
    expect(await extract(db, `SELECT * FROM ${t}`)).toEqual([{ id: 1, amount: 10 }]);
  });

  it("a failure in a later batch rolls the whole append back, and drops a table the load created", async () => {
    const db = await connect();
    const t = table();
    await db.call("load", [[{ id: 1 }], { table: t }]);
    const bad = batches([{ id: 2 }, { id: 3 }], [{ id: 4 }, { id: "four" }]);
    expect((await failure(db.loadFrom(bad, { table: t, mode: "append", mergeKey: null }))).code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(await extract(db, `SELECT id FROM ${t}`)).toEqual([{ id: 1 }]);
    const fresh = table();
    const err = await failure(db.loadFrom(batches([{ id: 1 }], [{ id: 2, other: 1 }]), { table: fresh, mode: "append", mergeKey: null }));
    expect(err.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(await adminRows(`SHOW TABLES LIKE '${fresh}'`)).toEqual([]);
  });

  it("values the server would only warn about under LOAD DATA LOCAL fail the load instead of being mangled", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (id INT NOT NULL, code VARCHAR(3) NOT NULL)`]);
    await db.call("load", [[{ id: 1, code: "abc" }], { table: t }]);
    const tooLong = await failure(db.call("load", [[{ id: 2, code: "abcdef" }], { table: t }]));
    expect(["TAU_E_CONNECTOR_TYPE_MISMATCH", "TAU_E_CONNECTOR_CONSTRAINT"]).toContain(tooLong.code);
    const nulls = await failure(db.call("load", [[{ id: 3, code: null }], { table: t }]));
    expect(nulls.code).toBe("TAU_E_CONNECTOR_CONSTRAINT");
    expect(await extract(db, `SELECT * FROM ${t}`)).toEqual([{ id: 1, code: "abc" }]);
  });

  it("replace swaps the new rows in atomically: a concurrent reader sees the old rows or the new ones, never a mix", async () => {
    const db = await connect();
    const t = table();
    const rows = (n: number, tag: string): Record<string, unknown>[] => Array.from({ length: n }, (_, i) => ({ id: i, tag }));
    await db.call("load", [rows(20000, "old"), { table: t }]);
    const reader = await createConnection({ host: HOST, user: "root", database: DB });
    const seen = new Set<string>();
    let stop = false;
    const reading = (async () => {
      while (!stop) {
        const [r] = await reader.query(`SELECT COUNT(*) AS n, MIN(tag) AS lo, MAX(tag) AS hi FROM ${t}`);
        const { n, lo, hi } = (r as Record<string, unknown>[])[0];
        seen.add(`${n}:${lo}:${hi}`);
      }
    })();
    try {
      for (let i = 0; i < 3; i++) {
        expect(await db.call("load", [rows(30000, "new"), { table: t, mode: "replace" }])).toBe(30000);
        expect(await db.call("load", [rows(20000, "old"), { table: t, mode: "replace" }])).toBe(20000);
      }
    } finally {
      stop = true;
      await reading;
      await reader.end();
    }
    expect([...seen].every((s) => s === "20000:old:old" || s === "30000:new:new")).toBe(true);
    expect(seen.size).toBeGreaterThan(0);
    const leftovers = await adminRows(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME LIKE '%__tau_%'`);
    expect(leftovers).toEqual([]);
  });

  it("replace creates a missing table, keeps the table's indexes, and a failed replace leaves the old rows", async () => {
    const db = await connect();
    const t = table();
    expect(await db.call("load", [[{ id: 1, v: "a" }], { table: t, mode: "replace" }])).toBe(1);
    await db.call("execute", [`ALTER TABLE ${t} ADD UNIQUE KEY uk (id)`]);
    expect(await db.call("load", [[{ id: 2, v: "b" }, { id: 3, v: "c", w: true }], { table: t, mode: "replace" }])).toBe(2);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY id`)).toEqual([
      { id: 2, v: "b", w: null },
      { id: 3, v: "c", w: true },
    ]);
    expect(await adminRows(`SHOW INDEX FROM ${t} WHERE Key_name = 'uk'`)).toHaveLength(1);
    const err = await failure(db.loadFrom(batches([{ id: 5, v: "x" }], [{ id: "bad", v: "y" }]), { table: t, mode: "replace", mergeKey: null }));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(await extract(db, `SELECT id FROM ${t} ORDER BY id`)).toEqual([{ id: 2 }, { id: 3 }]);
    expect(await db.call("load", [[], { table: t, mode: "replace" }])).toBe(0);
    expect(await extract(db, `SELECT COUNT(*) AS n FROM ${t}`)).toEqual([{ n: 0 }]);
    const leftovers = await adminRows(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME LIKE '%__tau_%'`);
    expect(leftovers).toEqual([]);
  });

  it("upsert creates the table with a primary key on mergeKey and is idempotent when run twice", async () => {
    const db = await connect();
    const t = table();
    const rows = [
      { id: 1, name: "a", score: 1.5 },
      { id: 2, name: "b", score: 2 },
    ];
    expect(await db.call("load", [rows, { table: t, mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await db.call("load", [rows, { table: t, mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY id`)).toEqual(rows);
    expect((await adminRows(`SHOW INDEX FROM ${t} WHERE Key_name = 'PRIMARY'`)).map((r) => r.Column_name)).toEqual(["id"]);
    expect(await db.call("load", [[{ id: 2, name: "B", score: 3 }, { id: 3, name: "c", score: 0 }], { table: t, mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY id`)).toEqual([
      { id: 1, name: "a", score: 1.5 },
      { id: 2, name: "B", score: 3 },
      { id: 3, name: "c", score: 0 },
    ]);
  });

  it("of duplicate keys within one upsert the last row wins, with composite text keys too", async () => {
    const db = await connect();
    const t = table();
    const rows = [
      { tenant: "x", id: "1", v: 1 },
      { tenant: "x", id: "2", v: 2 },
      { tenant: "x", id: "1", v: 3 },
      { tenant: "y", id: "1", v: 4 },
      { tenant: "x", id: "1", v: 5 },
    ];
    expect(await db.call("load", [rows, { table: t, mode: "upsert", mergeKey: ["tenant", "id"] }])).toBe(5);
    expect(await extract(db, `SELECT * FROM ${t} ORDER BY tenant, id`)).toEqual([
      { tenant: "x", id: "1", v: 5 },
      { tenant: "x", id: "2", v: 2 },
      { tenant: "y", id: "1", v: 4 },
    ]);
  });

  it("upsert without mergeKey, with a key the rows lack, or into a table without a matching unique key fails before changing anything", async () => {
    const db = await connect();
    const t = table();
    const noKey = await failure(db.call("load", [[{ id: 1 }], { table: t, mode: "upsert" }]));
    expect(noKey.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(noKey.message).toMatch(/mergeKey/);
    const absent = await failure(db.call("load", [[{ id: 1 }], { table: t, mode: "upsert", mergeKey: "code" }]));
    expect(absent.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(absent.details.column).toBe("code");
    const nullKey = await failure(db.call("load", [[{ id: 1 }, { id: null }], { table: t, mode: "upsert", mergeKey: "id" }]));
    expect(nullKey.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(await adminRows(`SHOW TABLES LIKE '${t}'`)).toEqual([]);
    await db.call("execute", [`CREATE TABLE ${t} (id INT, v INT)`]);
    await db.call("execute", [`INSERT INTO ${t} VALUES (1, 1)`]);
    const noIndex = await failure(db.call("load", [[{ id: 1, v: 2, extra: "x" }], { table: t, mode: "upsert", mergeKey: "id" }]));
    expect(noIndex.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(noIndex.message).toMatch(/PRIMARY KEY or UNIQUE index/);
    expect(noIndex.hint).toMatch(/ADD UNIQUE KEY/);
    expect((await db.call("getSchema", [t]) as { name: string }[]).map((c) => c.name)).toEqual(["id", "v"]);
    expect(await extract(db, `SELECT * FROM ${t}`)).toEqual([{ id: 1, v: 1 }]);
  });

  it("loads from a cursor of the same connector (a host-side copy within one database)", async () => {
    const db = await connect();
    const src = table();
    const dst = table();
    await db.call("execute", [`CREATE TABLE ${src} AS SELECT seq AS id, CONCAT('n', seq) AS name, seq / 4 AS q FROM seq_1_to_12345`]);
    const cursor = await db.openCursor(`SELECT * FROM ${src} ORDER BY id`, [], 1000);
    const source: RowSource = {
      async *[Symbol.asyncIterator]() {
        for (let b = await cursor.next(); b; b = await cursor.next()) yield b;
      },
    };
    expect(await db.loadFrom(source, { table: dst, mode: "append", mergeKey: null })).toBe(12345);
    expect(await extract(db, `SELECT COUNT(*) AS n, SUM(id) AS s, MAX(name) AS m FROM ${dst}`)).toEqual([{ n: 12345, s: 76205685, m: "n9999" }]);
  });

  it("the multi-row INSERT path (when LOAD DATA LOCAL is unavailable) splits big loads into several statements and upserts too", async () => {
    const db = await connect();
    db.bulkPath = "insert";
    const t = table();
    const text = "x".repeat(1000);
    const rows = Array.from({ length: 12000 }, (_, i) => ({ id: i, text, at: "2024-01-02T03:04:05.250Z", ok: i % 2 === 0, doc: { i } }));
    expect(await db.call("load", [rows, { table: t }])).toBe(12000);
    expect(await db.call("load", [rows.slice(0, 10).map((r) => ({ ...r, text: "y" })), { table: `${t}_u`, mode: "upsert", mergeKey: "id" }])).toBe(10);
    expect(await db.call("load", [[{ id: 3, text: "z", at: null, ok: null, doc: null }], { table: `${t}_u`, mode: "upsert", mergeKey: "id" }])).toBe(1);
    expect(await extract(db, `SELECT COUNT(*) AS n, MAX(at) AS at, SUM(ok) AS ok FROM ${t}`)).toEqual([{ n: 12000, at: "2024-01-02T03:04:05.250Z", ok: 6000 }]);
    expect(await extract(db, `SELECT * FROM ${t}_u WHERE id IN (2, 3) ORDER BY id`)).toEqual([
      { id: 2, text: "y", at: "2024-01-02T03:04:05.250Z", ok: true, doc: { i: 2 } },
      { id: 3, text: "z", at: null, ok: null, doc: null },
    ]);
  });
  it("both bulk paths turn text booleans and zoned timestamps into what the columns hold", async () => {
    for (const path of ["infile", "insert"] as const) {
      const db = await connect();
      db.bulkPath = path;
      const t = table();
      await db.call("execute", [`CREATE TABLE ${t} (id INT, ok BOOLEAN, at DATETIME(3), d DATE)`]);
      const rows = [
        { id: 1, ok: "true", at: "2024-01-02T03:04:05.5+01:00", d: "2024-01-02" },
        { id: 2, ok: "F", at: "2024-01-02 03:04:05", d: "2024-01-03T00:00:00Z" },
      ];
      expect(await db.call("load", [rows, { table: t }])).toBe(2);
      expect({ path, rows: await extract(db, `SELECT * FROM ${t} ORDER BY id`) }).toEqual({
        path,
        rows: [
          { id: 1, ok: true, at: "2024-01-02T02:04:05.500Z", d: "2024-01-02" },
          { id: 2, ok: false, at: "2024-01-02T03:04:05.000Z", d: "2024-01-03" },
        ],
      });
    }
  });

  it("with local_infile off on the server, append and upsert fall back to multi-row INSERTs by themselves", async () => {
    const [[{ li }]] = (await admin.query("SELECT @@GLOBAL.local_infile AS li")) as unknown as [[{ li: number }]];
    await admin.query("SET GLOBAL local_infile = 0");
    try {
      const db = await connect();
      const t = table();
      expect(await db.call("load", [[{ id: 1, v: "a" }, { id: 2, v: "b" }], { table: t }])).toBe(2);
      expect(await db.call("load", [[{ id: 2, v: "B" }], { table: t + "u", mode: "upsert", mergeKey: "id" }])).toBe(1);
      expect(await extract(db, `SELECT * FROM ${t} ORDER BY id`)).toEqual([{ id: 1, v: "a" }, { id: 2, v: "b" }]);
    } finally {
      await admin.query(`SET GLOBAL local_infile = ${Number(li) ? 1 : 0}`);
    }
  });
});

describe("mysql: errors and policy", () => {
  it("maps server errors to Tau codes by group", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (id INT PRIMARY KEY, n INT NOT NULL)`]);
    await db.call("execute", [`INSERT INTO ${t} VALUES (1, 1)`]);
    const cases: Array<[string, string]> = [
      ["SELEC 1", "TAU_E_CONNECTOR_SYNTAX"],
      ["SELECT * FROM no_such_table", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"],
      [`SELECT nope FROM ${t}`, "TAU_E_CONNECTOR_UNKNOWN_OBJECT"],
      ["SELECT * FROM no_such_db.x", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"],
      [`INSERT INTO ${t} VALUES (1, 2)`, "TAU_E_CONNECTOR_CONSTRAINT"],
      [`INSERT INTO ${t} VALUES (2, NULL)`, "TAU_E_CONNECTOR_CONSTRAINT"],
      [`INSERT INTO ${t} VALUES (3, 'abc')`, "TAU_E_CONNECTOR_TYPE_MISMATCH"],
      [`INSERT INTO ${t} VALUES (4, 99999999999)`, "TAU_E_CONNECTOR_TYPE_MISMATCH"],
    ];
    for (const [sql, code] of cases) {
      const err = await failure(db.call("execute", [sql]));
      expect({ sql, code: err.code }).toEqual({ sql, code });
      expect(err.details.sql).toBe(sql);
    }
    const dup = await failure(db.call("execute", [`INSERT INTO ${t} VALUES (1, 2)`]));
    expect(dup.details).toMatchObject({ mysqlCode: "ER_DUP_ENTRY", errno: 1062 });
  });

  it("a table the user may not write is TAU_E_CONNECTOR_PERMISSION_DENIED", async () => {
    const user = `tau_ro_${process.pid}`;
    const t = table();
    await admin.query(`CREATE TABLE ${t} (id INT)`);
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw-${user}'`);
    await admin.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'pw-${user}'`);
    try {
      await admin.query(`GRANT SELECT ON \`${DB}\`.${t} TO '${user}'@'%', '${user}'@'localhost'`);
      const db = await connect({ user, password: `pw-${user}` });
      expect(await extract(db, `SELECT COUNT(*) AS n FROM ${t}`)).toEqual([{ n: 0 }]);
      const err = await failure(db.call("execute", [`INSERT INTO ${t} VALUES (1)`]));
      expect(err.code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
    } finally {
      await admin.query(`DROP USER IF EXISTS '${user}'@'%', '${user}'@'localhost'`);
    }
  });

  it("a lock wait timeout is TAU_E_CONNECTOR_TIMEOUT, which is retryable", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB`]);
    await db.call("execute", [`INSERT INTO ${t} VALUES (1, 1)`]);
    const holder = await createConnection({ host: HOST, user: "root", database: DB });
    try {
      await holder.query("START TRANSACTION");
      await holder.query(`SELECT * FROM ${t} WHERE id = 1 FOR UPDATE`);
      await db.call("execute", ["SET SESSION innodb_lock_wait_timeout = 1"]);
      const err = await failure(db.call("execute", [`UPDATE ${t} SET v = 2 WHERE id = 1`]));
      expect(err.code).toBe("TAU_E_CONNECTOR_TIMEOUT");
      expect(ERRORS.TAU_E_CONNECTOR_TIMEOUT.retryable).toBe(true);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("wrong credentials are TAU_E_CONNECTOR_AUTH_FAILED; a closed port and an unknown host are TAU_E_CONNECTOR_UNREACHABLE", async () => {
    const auth = await failure(connect({ user: "tau_no_such_user", password: "wrong-password-123" }));
    expect(auth.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(auth.message).not.toContain("wrong-password-123");
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, HOST, () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const refused = await failure(connect({ port: closed }));
    expect(refused.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
    expect(refused.details).toMatchObject({ host: HOST, port: closed });
    expect(ERRORS.TAU_E_CONNECTOR_UNREACHABLE.retryable).toBe(true);
    const unknown = await failure(connect({ host: "no-such-host.invalid" }));
    expect(unknown.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
  });

  it("the converter maps each mysql2 error code group once", () => {
    const groups: Record<string, string[]> = {
      TAU_E_CONNECTOR_AUTH_FAILED: ["ER_ACCESS_DENIED_ERROR"],
      TAU_E_CONNECTOR_UNREACHABLE: ["ECONNREFUSED", "ENOTFOUND", "PROTOCOL_CONNECTION_LOST"],
      TAU_E_CONNECTOR_TIMEOUT: ["ETIMEDOUT", "ER_LOCK_WAIT_TIMEOUT"],
      TAU_E_CONNECTOR_CONFLICT: ["ER_LOCK_DEADLOCK"],
      TAU_E_CONNECTOR_UNKNOWN_OBJECT: ["ER_NO_SUCH_TABLE", "ER_BAD_FIELD_ERROR", "ER_BAD_DB_ERROR"],
      TAU_E_CONNECTOR_SYNTAX: ["ER_PARSE_ERROR"],
      TAU_E_CONNECTOR_PERMISSION_DENIED: ["ER_TABLEACCESS_DENIED_ERROR"],
      TAU_E_CONNECTOR_TYPE_MISMATCH: ["ER_TRUNCATED_WRONG_VALUE", "ER_WARN_DATA_OUT_OF_RANGE"],
      TAU_E_CONNECTOR_CONSTRAINT: ["ER_DUP_ENTRY", "ER_BAD_NULL_ERROR", "ER_NO_REFERENCED_ROW"],
      TAU_E_CONNECTOR_QUERY_FAILED: ["ER_SOMETHING_ELSE", ""],
    };
    for (const [code, names] of Object.entries(groups)) for (const n of names) expect({ n, code: mysqlCodeFor(n) }).toEqual({ n, code });
    expect(ERRORS.TAU_E_CONNECTOR_CONFLICT.retryable).toBe(true);
    const converted = convertMysqlError({ code: "ER_BAD_FIELD_ERROR", errno: 1054, sqlMessage: "Unknown column 'x' in 'field list'" }, { sql: "SELECT x" });
    expect(converted.toBody()).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", details: { column: "x", sql: "SELECT x", errno: 1054 } });
  });

  it("a connection the server dropped fails one call as retryable, and the next call reconnects", async () => {
    const db = await connect();
    const [{ id }] = await extract(db, "SELECT CONNECTION_ID() AS id");
    await admin.query(`KILL CONNECTION ${Number(id)}`);
    await new Promise((r) => setTimeout(r, 100));
    const err = await failure(db.call("extract", ["SELECT 1 AS one"]));
    expect(err.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
    expect(ERRORS[err.code as keyof typeof ERRORS].retryable).toBe(true);
    expect(await extract(db, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("SQL from a pipeline cannot make the driver upload a host file with LOAD DATA LOCAL", async () => {
    const db = await connect();
    const t = table();
    await db.call("execute", [`CREATE TABLE ${t} (line TEXT)`]);
    const err = await failure(db.call("execute", [`LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE ${t}`]));
    expect(err.code).toMatch(/^TAU_E_CONNECTOR_/);
    expect(await extract(db, `SELECT COUNT(*) AS n FROM ${t}`)).toEqual([{ n: 0 }]);
  });

  it("egress denial comes before any connection is made", async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, HOST, () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const denyAll: Policy = { ...LOCAL_POLICY, egress: [] };
      const err = await failure(connect({ port }, ctx(denyAll)));
      expect(err.code).toBe("TAU_E_POLICY_DENIED");
      expect(err.details).toMatchObject({ rule: "egress", host: HOST, port });
      const otherPort: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "127.0.0.0/8", ports: [port + 1] }] };
      expect((await failure(connect({ port }, ctx(otherPort)))).code).toBe("TAU_E_POLICY_DENIED");
      const localhostByCidr: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "10.0.0.0/8" }] };
      expect((await failure(connect({ host: "localhost", port }, ctx(localhostByCidr)))).code).toBe("TAU_E_POLICY_DENIED");
      expect(connections).toBe(0);
      // Allowed by CIDR after resolving the name: the connection goes to the checked address.
      const allowed: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "127.0.0.0/8", ports: [3306] }] };
      const db = await connect({ host: "localhost" }, ctx(allowed));
      expect(await extract(db, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    } finally {
      server.close();
    }
  });

  it("rejects unknown options and a dsn with fields, without echoing the dsn", async () => {
    expect((await failure(connect({ bogus: 1 }))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const both = await failure(host.open("mysql", { dsn: "mysql://root:hunter22@127.0.0.1/x", host: HOST }, ctx()));
    expect(both.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(both.message).not.toContain("hunter22");
    const bad = await failure(host.open("mysql", { dsn: "postgres://root:hunter22@127.0.0.1/x" }, ctx()));
    expect(bad.message).not.toContain("hunter22");
    const viaDsn = (await host.open("mysql", { dsn: `mysql://root@${HOST}:3306/${DB}` }, ctx())) as MysqlConnector;
    open.push(viaDsn);
    expect(await extract(viaDsn, "SELECT DATABASE() AS db")).toEqual([{ db: DB }]);
  });
});
