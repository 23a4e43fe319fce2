/**
 * The postgres connector's host driver against the real PostgreSQL 15 at 127.0.0.1:5432 (trust auth,
 * database `test`). Each run works in its own schema and drops it at the end.
 */
import { createServer, type Server } from "node:net";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy } from "../../policies";
import { PostgresDriver, type PgConnector } from "../../runtime/connectors/postgres";
import { parsePgOptions } from "../../runtime/connectors/postgres-connection";
import { convertPgError } from "../../runtime/connectors/postgres-errors";
import { oneBatch } from "../../runtime/connectors/rows";
import { RawJson, type ConnectorContext, type RowSource } from "../../runtime/connectors/types";
import { ERRORS, TauError } from "../../server/contract";

const SCHEMA = `tau_pg_test_${process.pid}`;
const BASE = { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" };
const ctx = (policy: Policy = LOCAL_POLICY, limits: Partial<typeof DEFAULT_LIMITS> = {}): ConnectorContext => ({
  dataDir: "/tmp",
  policy,
  limits: { ...DEFAULT_LIMITS, ...limits },
});

const driver = new PostgresDriver();
let db: PgConnector;
let reader: Client;

async function open(options: Record<string, unknown> = BASE, c: ConnectorContext = ctx()): Promise<PgConnector> {
  return (await driver.open(options, c)) as PgConnector;
}

async function rowsOf(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await reader.query(sql, params)).rows;
}

function extracted(value: unknown): Record<string, unknown>[] {
  expect(value).toBeInstanceOf(RawJson);
  return JSON.parse((value as RawJson).text);
}

async function failure(p: Promise<unknown>): Promise<TauError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TauError);
    return err as TauError;
  }
  throw new Error("expected a failure");
}

beforeAll(async () => {
  reader = new Client(BASE);
  await reader.connect();
  await reader.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await reader.query(`CREATE SCHEMA ${SCHEMA}`);
  db = await open();
});

afterAll(async () => {
  await db?.close();
  await reader.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await reader.query("DROP ROLE IF EXISTS tau_pg_test_limited").catch(() => undefined);
  await reader.end();
});

describe("postgres: reading", () => {
  it("extract returns rows with Tau's JSON forms for integers, numerics, dates, timestamps and JSON", async () => {
    const rows = extracted(
      await db.call("extract", [
        `SELECT 42::int8 AS small, 9223372036854775807::int8 AS big, 12.5::numeric AS num, 1234567890.123456789012::numeric AS exact,
                '2024-02-29'::date AS d, '2024-01-02 03:04:05.123456'::timestamp AS ts, '2024-01-02 03:04:05+02'::timestamptz AS tz,
                '{"a":[1,2]}'::jsonb AS j, true AS b, NULL::text AS n, $1::text AS p`,
        ["héllo"],
      ]),
    );
    expect(rows).toEqual([
      {
        small: 42,
        big: "9223372036854775807",
        num: 12.5,
        exact: "1234567890.123456789012",
        d: "2024-02-29",
        ts: "2024-01-02T03:04:05.123456Z",
        tz: "2024-01-02T01:04:05Z",
        j: { a: [1, 2] },
        b: true,
        n: null,
        p: "héllo",
      },
    ]);
  });

  it("extract renders arrays, special floats, intervals, bytea, uuid and repeated column names as JSON", async () => {
    const rows = extracted(
      await db.call("extract", [
        `SELECT ARRAY[1,2]::int[] AS ints, ARRAY['a','b"c']::text[] AS texts, 'NaN'::float8 AS nan, 'Infinity'::float8 AS inf, 1.5e300::float8 AS big,
                '1 day 02:00'::interval AS iv, '\\x0102'::bytea AS bin, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
                'infinity'::timestamptz AS forever, 'NaN'::numeric AS nnum, -0.5::numeric AS half, 1 AS dup, 2 AS dup, '{"deep":{"x":[true]}}'::json AS j`,
      ]),
    );
    expect(rows).toEqual([
      {
        ints: [1, 2],
        texts: ["a", 'b"c'],
        nan: null,
        inf: null,
        big: 1.5e300,
        iv: "1 day 02:00:00",
        bin: "\\x0102",
        id: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        forever: "infinity",
        nnum: "NaN",
        half: -0.5,
        dup: 2,
        j: { deep: { x: [true] } },
      },
    ]);
  });

  it("extract stops with TAU_E_CONNECTOR_RESULT_TOO_LARGE past the row cap and the handle stays usable", async () => {
    const small = await open(BASE, ctx(LOCAL_POLICY, { extractRows: 1000 }));
    try {
      const err = await failure(small.call("extract", ["SELECT g FROM generate_series(1, 1000000) g"]));
      expect(err.code).toBe("TAU_E_CONNECTOR_RESULT_TOO_LARGE");
      expect(err.details.limitRows).toBe(1000);
      expect(extracted(await small.call("extract", ["SELECT 1 AS one"]))).toEqual([{ one: 1 }]);
      expect(extracted(await small.call("extract", ["SELECT g FROM generate_series(1, 1000) g"]))).toHaveLength(1000);
    } finally {
      await small.close();
    }
  });

  it("a failed extract leaves the handle usable for the next call", async () => {
    expect((await failure(db.call("extract", ["SELECT * FROM no_such_table_anywhere"]))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(extracted(await db.call("extract", ["SELECT 2 AS two"]))).toEqual([{ two: 2 }]);
  });

  it("openCursor streams a large result in batches from a server-side cursor", async () => {
    const cursor = await db.openCursor("SELECT g AS n FROM generate_series(1, $1::int) g ORDER BY g;", [25_001], 10_000);
    const sizes: number[] = [];
    let last = 0;
    for (let batch = await cursor.next(); batch !== null; batch = await cursor.next()) {
      sizes.push(batch.length);
      last = batch[batch.length - 1].n as number;
    }
    await cursor.close();
    expect(sizes).toEqual([10_000, 10_000, 5_001]);
    expect(last).toBe(25_001);
  });

  it("a cursor leaves the handle free: the same handle can load from its own cursor", async () => {
    await db.call("execute", [`CREATE TABLE ${SCHEMA}.src AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3000) g`]);
    const cursor = await db.openCursor(`SELECT * FROM ${SCHEMA}.src`, [], 1000);
    const source: RowSource = {
      async *[Symbol.asyncIterator]() {
        for (let b = await cursor.next(); b !== null; b = await cursor.next()) yield b;
      },
    };
    const n = await db.loadFrom(source, { table: `${SCHEMA}.copy_of_src`, mode: "append", mergeKey: null });
    await cursor.close();
    expect(n).toBe(3000);
    expect(await rowsOf(`SELECT count(*)::int AS n, max(label) AS m FROM ${SCHEMA}.copy_of_src`)).toEqual([{ n: 3000, m: "row 999" }]);
  });

  it("getSchema lists columns of a schema-qualified table and refuses an unknown one", async () => {
    await db.call("execute", [`CREATE TABLE ${SCHEMA}.described (id bigint PRIMARY KEY, name varchar(40), amount numeric(12,2), at timestamptz, tags text[])`]);
    expect(await db.call("getSchema", [`${SCHEMA}.described`])).toEqual([
      { name: "id", type: "BIGINT", nullable: false },
      { name: "name", type: "CHARACTER VARYING(40)", nullable: true },
      { name: "amount", type: "NUMERIC(12,2)", nullable: true },
      { name: "at", type: "TIMESTAMP WITH TIME ZONE", nullable: true },
      { name: "tags", type: "TEXT[]", nullable: true },
    ]);
    expect((await failure(db.call("getSchema", [`${SCHEMA}.nope`]))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
  });

  it("execute reports the rows a statement changed", async () => {
    await db.call("execute", [`CREATE TABLE ${SCHEMA}.ex (id int)`]);
    expect(await db.call("execute", [`INSERT INTO ${SCHEMA}.ex SELECT generate_series(1, $1::int)`, [5]])).toEqual({ rowsAffected: 5 });
    expect(await db.call("execute", [`DELETE FROM ${SCHEMA}.ex WHERE id > 3`])).toEqual({ rowsAffected: 2 });
  });
});

describe("postgres: load", () => {
  const T = (name: string): string => `${SCHEMA}.${name}`;

  it("append creates the table from the rows' types and round-trips NULLs, quotes, tabs, newlines, backslashes, unicode and JSON", async () => {
    const tricky = [
      { id: 1, text: `quote ' and "double"`, flag: true, amount: 1.5, day: "2024-01-02", at: "2024-01-02T03:04:05Z", doc: { a: [1, "x\ty"], b: null } },
      { id: 2, text: "tab\there\nnewline\r\nback\\slash \\N not null", flag: false, amount: -2, day: null, at: null, doc: ["\\", "\n"] },
      { id: 3, text: "ünïcødé ✓ 🚀 日本語", flag: null, amount: null, day: "2024-12-31", at: "2024-06-01T00:00:00.123456Z", doc: null },
      { id: 4, text: "", flag: true, amount: 0, day: "2024-01-01", at: "2024-01-01T00:00:00Z", doc: { "key with \\": "\\N" } },
      { id: 5, text: null, flag: null, amount: null, day: null, at: null, doc: null },
    ];
    expect(await db.call("load", [tricky, { table: T("tricky") }])).toBe(5);
    const types = await rowsOf(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'tricky' ORDER BY ordinal_position`,
      [SCHEMA],
    );
    expect(types.map((t) => `${t.column_name}:${t.data_type}`)).toEqual([
      "id:bigint",
      "text:text",
      "flag:boolean",
      "amount:double precision",
      "day:date",
      "at:timestamp with time zone",
      "doc:jsonb",
    ]);
    const back = extracted(await db.call("extract", [`SELECT * FROM ${T("tricky")} ORDER BY id`]));
    expect(back).toEqual(
      tricky.map((r) => ({ ...r, at: r.at === null ? null : r.at.replace(/\.?0*Z$/, (m) => (m.startsWith(".") ? "Z" : m)) })),
    );
  });

  it("append round-trips values larger than the COPY buffer and non-ASCII text after escapes", async () => {
    const big = `${"x".repeat(600_000)}\\\t${"é".repeat(100_000)}🚀`;
    const rows = [
      { id: 1, s: big },
      { id: 2, s: "a\\b\nc" + "日本".repeat(50) + "\t\r" + "\uD83D" },
      { id: 3, s: "🚀".repeat(200_000) },
    ];
    expect(await db.call("load", [rows, { table: T("wide") }])).toBe(3);
    const back = await rowsOf(`SELECT id::int, s FROM ${T("wide")} ORDER BY id`);
    expect(back.map((r) => r.s)).toEqual([big, rows[1].s.replace("\uD83D", "\uFFFD"), rows[2].s]);
  });

  it("append adds to existing rows, and fields the table lacks become new columns", async () => {
    await db.call("load", [[{ id: 1, name: "a" }], { table: T("grow"), mode: "append" }]);
    expect(await db.call("load", [[{ id: 2, name: "b", score: 9.5, seen: "2024-05-01" }], { table: T("grow"), mode: "append" }])).toBe(1);
    expect(await rowsOf(`SELECT id::int, name, score, seen::text FROM ${T("grow")} ORDER BY id`)).toEqual([
      { id: 1, name: "a", score: null, seen: null },
      { id: 2, name: "b", score: 9.5, seen: "2024-05-01" },
    ]);
  });

  it("a value that does not fit an existing column is TAU_E_CONNECTOR_TYPE_MISMATCH naming the column, and the table is unchanged", async () => {
    await db.call("execute", [`CREATE TABLE ${T("typed")} (id int PRIMARY KEY, amount numeric)`]);
    await db.call("load", [[{ id: 1, amount: 10 }], { table: T("typed") }]);
    const err = await failure(db.call("load", [[{ id: 2, amount: 5, extra: "x" }, { id: 3, amount: "lots" }], { table: T("typed") }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details.column).toBe("amount");
    expect(err.message).toContain("amount");
    // The new column 'extra' was added inside the rolled-back transaction: it is gone too.
    expect(await rowsOf(`SELECT * FROM ${T("typed")}`)).toEqual([{ id: 1, amount: "10" }]);
    expect((await rowsOf(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'typed'`, [SCHEMA]))[0].n).toBe(2);
  });

  it("a value PostgreSQL itself rejects during COPY names the column and rolls the whole load back", async () => {
    await db.call("execute", [`CREATE TABLE ${T("small_ints")} (id int, n smallint)`]);
    const err = await failure(db.call("load", [[{ id: 1, n: 1 }, { id: 2, n: 100000 }], { table: T("small_ints") }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details.column).toBe("n");
    expect(await rowsOf(`SELECT count(*)::int AS n FROM ${T("small_ints")}`)).toEqual([{ n: 0 }]);
  });

  it("replace swaps the contents atomically: a concurrent reader sees the old rows or the new rows, never an empty table", async () => {
    const old = Array.from({ length: 2000 }, (_, i) => ({ id: i, gen: "old" }));
    await db.call("load", [old, { table: T("swap"), mode: "append" }]);
    const next = Array.from({ length: 50_000 }, (_, i) => ({ id: i, gen: "new" }));
    const seen = new Set<string>();
    let done = false;
    const reading = (async () => {
      while (!done) {
        const [r] = await rowsOf(`SELECT count(*)::int AS n, min(gen) AS g FROM ${T("swap")}`);
        seen.add(`${r.n}:${r.g}`);
      }
    })();
    // A slow source keeps the transaction open while the reader polls.
    const slow: RowSource = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < next.length; i += 10_000) {
          await new Promise((r) => setTimeout(r, 40));
          yield next.slice(i, i + 10_000);
        }
      },
    };
    expect(await db.loadFrom(slow, { table: T("swap"), mode: "replace", mergeKey: null })).toBe(50_000);
    done = true;
    await reading;
    const [r] = await rowsOf(`SELECT count(*)::int AS n, min(gen) AS g FROM ${T("swap")}`);
    seen.add(`${r.n}:${r.g}`);
    expect([...seen].every((s) => s === "2000:old" || s === "50000:new")).toBe(true);
    expect(seen.has("50000:new")).toBe(true);
  });

  it("replace with no rows empties an existing table", async () => {
    await db.call("load", [[{ id: 1 }], { table: T("empty_me") }]);
    expect(await db.call("load", [[], { table: T("empty_me"), mode: "replace" }])).toBe(0);
    expect(await rowsOf(`SELECT count(*)::int AS n FROM ${T("empty_me")}`)).toEqual([{ n: 0 }]);
  });

  it("upsert creates the table with the mergeKey as primary key and running it twice is idempotent", async () => {
    const rows = [
      { id: 1, name: "a", qty: 1 },
      { id: 2, name: "b", qty: 2 },
    ];
    expect(await db.call("load", [rows, { table: T("up"), mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await db.call("load", [rows, { table: T("up"), mode: "upsert", mergeKey: "id" }])).toBe(2);
    const pk = await rowsOf(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary`,
      [T("up")],
    );
    expect(pk).toEqual([{ attname: "id" }]);
    await db.call("load", [[{ id: 2, name: "B", qty: 20 }, { id: 3, name: "c", qty: 3 }], { table: T("up"), mode: "upsert", mergeKey: ["id"] }]);
    expect(await rowsOf(`SELECT id::int, name, qty::int FROM ${T("up")} ORDER BY id`)).toEqual([
      { id: 1, name: "a", qty: 1 },
      { id: 2, name: "B", qty: 20 },
      { id: 3, name: "c", qty: 3 },
    ]);
  });

  it("upsert with duplicate keys in one load keeps the last row per key instead of failing", async () => {
    const rows = [
      { k1: "a", k2: 1, v: "first" },
      { k1: "b", k2: 1, v: "only" },
      { k1: "a", k2: 1, v: "second" },
      { k1: "a", k2: 2, v: "other key" },
      { k1: "a", k2: 1, v: "last" },
    ];
    expect(await db.call("load", [rows, { table: T("dups"), mode: "upsert", mergeKey: ["k1", "k2"] }])).toBe(5);
    expect(await rowsOf(`SELECT k1, k2::int, v FROM ${T("dups")} ORDER BY k1, k2`)).toEqual([
      { k1: "a", k2: 1, v: "last" },
      { k1: "a", k2: 2, v: "other key" },
      { k1: "b", k2: 1, v: "only" },
    ]);
  });

  it("upsert without mergeKey, or with a mergeKey the rows lack, is a clear TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    const missing = await failure(db.call("load", [[{ id: 1 }], { table: T("mk"), mode: "upsert" }]));
    expect(missing.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(missing.details.option).toBe("mergeKey");
    const absent = await failure(db.call("load", [[{ id: 1 }], { table: T("mk"), mode: "upsert", mergeKey: "uuid" }]));
    expect(absent.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(absent.message).toContain("uuid");
    expect(await rowsOf(`SELECT to_regclass($1) AS t`, [T("mk")])).toEqual([{ t: null }]);
  });

  it("upsert into an existing table without a unique key on the mergeKey says how to add one and changes nothing", async () => {
    await db.call("execute", [`CREATE TABLE ${T("nokey")} (id int, v text)`]);
    await db.call("execute", [`INSERT INTO ${T("nokey")} VALUES (1, 'x')`]);
    const err = await failure(db.call("load", [[{ id: 1, v: "y" }], { table: T("nokey"), mode: "upsert", mergeKey: "id" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(err.hint).toContain("CREATE UNIQUE INDEX");
    expect(await rowsOf(`SELECT id, v FROM ${T("nokey")}`)).toEqual([{ id: 1, v: "x" }]);
  });

  it("mixed-case fields match existing lower-case columns, and quoted table names keep their case", async () => {
    await db.call("execute", [`CREATE TABLE ${SCHEMA}."CamelTable" (id int PRIMARY KEY, amount int)`]);
    expect(await db.call("load", [[{ ID: 1, Amount: 5 }], { table: `${SCHEMA}."CamelTable"`, mode: "upsert", mergeKey: "ID" }])).toBe(1);
    expect(await rowsOf(`SELECT * FROM ${SCHEMA}."CamelTable"`)).toEqual([{ id: 1, amount: 5 }]);
  });

  it("a load with a hostile table name or options is refused before any SQL runs", async () => {
    for (const table of [`x; DROP SCHEMA ${SCHEMA} CASCADE`, "a.b.c", "", '"unterminated']) {
      expect((await failure(db.call("load", [[{ id: 1 }], { table }]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    }
    expect((await failure(db.call("load", [[{ id: 1 }], { table: T("x"), mode: "merge" }]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(db.call("load", [[1, 2], { table: T("x") }]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("loadFrom takes plain rows as a one-batch source", async () => {
    expect(await db.loadFrom(oneBatch([{ a: 1 }, { a: 2 }]), { table: T("one_batch"), mode: "append", mergeKey: null })).toBe(2);
  });
});

describe("postgres: connecting and errors", () => {
  it("the egress policy is checked before any connection is made", async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const deny: Policy = { ...LOCAL_POLICY, egress: [{ host: "db.internal.example" }] };
      const byName = await failure(driver.open({ ...BASE, port }, ctx(deny)));
      expect(byName.code).toBe("TAU_E_POLICY_DENIED");
      expect(byName.details).toMatchObject({ rule: "egress", host: "127.0.0.1", port });
      const wrongPort: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "127.0.0.0/8", ports: [5432] }] };
      expect((await failure(driver.open({ ...BASE, port }, ctx(wrongPort)))).code).toBe("TAU_E_POLICY_DENIED");
      // localhost resolves to loopback addresses, which this CIDR rule does not cover.
      const cidr: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "10.0.0.0/8" }] };
      expect((await failure(driver.open({ dsn: `postgres://postgres@localhost:${port}/test` }, ctx(cidr)))).code).toBe("TAU_E_POLICY_DENIED");
      expect(connections).toBe(0);
      // The same checks let an allowed destination through.
      const allowed: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "127.0.0.0/8", ports: [5432] }] };
      const ok = await open({ dsn: "postgres://postgres@localhost:5432/test" }, ctx(allowed));
      await ok.close();
    } finally {
      server.close();
    }
  });

  it("a refused port and an unknown host are TAU_E_CONNECTOR_UNREACHABLE, retryable, naming where it tried", async () => {
    const refused = await failure(driver.open({ ...BASE, port: 1 }, ctx()));
    expect(refused.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
    expect(refused.details).toMatchObject({ host: "127.0.0.1", port: 1 });
    expect(ERRORS[refused.code].retryable).toBe(true);
    const unknown = await failure(driver.open({ ...BASE, host: "no-such-host.invalid" }, ctx()));
    expect(unknown.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
  });

  it("an unknown role is TAU_E_CONNECTOR_AUTH_FAILED and an unknown database TAU_E_CONNECTOR_UNKNOWN_OBJECT", async () => {
    expect((await failure(driver.open({ ...BASE, user: "tau_no_such_role" }, ctx()))).code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect((await failure(driver.open({ ...BASE, database: "tau_no_such_db" }, ctx()))).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
  });

  it("bad options are TAU_E_CONNECTOR_ARGS_INVALID without echoing the DSN", async () => {
    const both = await failure(driver.open({ dsn: "postgres://u:hunter22@h/db", host: "h" }, ctx()));
    expect(both.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(JSON.stringify(both.toBody())).not.toContain("hunter22");
    expect((await failure(driver.open({ dsn: "mysql://u:hunter22@h/db" }, ctx()))).message).not.toContain("hunter22");
    expect((await failure(driver.open({ ...BASE, sslmode: "x" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ ...BASE, host: "/var/run/postgresql" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("TLS keeps the host name the pipeline wrote as servername, since the socket goes to the checked address", () => {
    expect(parsePgOptions("postgres", { host: "db.example.com", ssl: true }, 5432).ssl).toEqual({ servername: "db.example.com", rejectUnauthorized: true });
    expect(parsePgOptions("postgres", { dsn: "postgres://u:p@db.example.com:6543/app?sslmode=require" }, 5432)).toMatchObject({
      host: "db.example.com",
      port: 6543,
      database: "app",
      user: "u",
      password: "p",
      ssl: { servername: "db.example.com", rejectUnauthorized: false },
    });
    expect(parsePgOptions("postgres", { dsn: "postgresql://u@10.0.0.5/app?sslmode=verify-full" }, 5432).ssl).toEqual({ servername: undefined, rejectUnauthorized: true });
    expect(parsePgOptions("redshift", { host: "wh.example.com" }, 5439)).toMatchObject({ port: 5439, ssl: false });
  });

  it("SQL errors map by SQLSTATE: unknown object, syntax, type mismatch, constraint", async () => {
    const cases: [string, string][] = [
      ["SELECT * FROM no_such_table", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"], // 42P01
      ["SELECT no_such_column FROM pg_class", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"], // 42703
      ["SELECT no_such_function(1)", "TAU_E_CONNECTOR_UNKNOWN_OBJECT"], // 42883
      ["SELEC 1", "TAU_E_CONNECTOR_SYNTAX"], // 42601
      ["SELECT 'abc'::int", "TAU_E_CONNECTOR_TYPE_MISMATCH"], // 22P02
      ["SELECT 2147483648::int", "TAU_E_CONNECTOR_TYPE_MISMATCH"], // 22003
      ["SELECT CASE WHEN true THEN 1 ELSE 'x'::text END", "TAU_E_CONNECTOR_TYPE_MISMATCH"], // 42804
    ];
    for (const [sql, code] of cases) {
      const err = await failure(db.call("extract", [sql]));
      expect({ sql, code: err.code, sqlInDetails: err.details.sql }).toEqual({ sql, code, sqlInDetails: sql });
    }
    await db.call("execute", [
      `CREATE TABLE ${SCHEMA}.parent (id int PRIMARY KEY);
       CREATE TABLE ${SCHEMA}.child (id int PRIMARY KEY, parent int REFERENCES ${SCHEMA}.parent, n int NOT NULL CHECK (n > 0));
       INSERT INTO ${SCHEMA}.parent VALUES (1); INSERT INTO ${SCHEMA}.child VALUES (1, 1, 1);`,
    ]);
    const constraint: [string, string][] = [
      [`INSERT INTO ${SCHEMA}.child VALUES (1, 1, 1)`, "23505"],
      [`INSERT INTO ${SCHEMA}.child VALUES (2, 1, NULL)`, "23502"],
      [`INSERT INTO ${SCHEMA}.child VALUES (3, 99, 1)`, "23503"],
      [`INSERT INTO ${SCHEMA}.child VALUES (4, 1, -1)`, "23514"],
    ];
    for (const [sql, state] of constraint) {
      const err = await failure(db.call("execute", [sql]));
      expect([err.code, err.details.sqlState]).toEqual(["TAU_E_CONNECTOR_CONSTRAINT", state]);
    }
  });

  it("a missing privilege is TAU_E_CONNECTOR_PERMISSION_DENIED", async () => {
    await reader.query("DROP ROLE IF EXISTS tau_pg_test_limited");
    await reader.query("CREATE ROLE tau_pg_test_limited LOGIN");
    await reader.query(`CREATE TABLE ${SCHEMA}.secret_table (id int)`);
    const limited = await open({ ...BASE, user: "tau_pg_test_limited" });
    try {
      const err = await failure(limited.call("extract", [`SELECT * FROM ${SCHEMA}.secret_table`]));
      expect([err.code, err.details.sqlState]).toEqual(["TAU_E_CONNECTOR_PERMISSION_DENIED", "42501"]);
    } finally {
      await limited.close();
    }
  });

  it("a statement past statementTimeoutMs is TAU_E_CONNECTOR_TIMEOUT, retryable", async () => {
    const quick = await open({ ...BASE, statementTimeoutMs: 100 });
    try {
      const err = await failure(quick.call("execute", ["SELECT pg_sleep(2)"]));
      expect([err.code, err.details.sqlState, ERRORS[err.code].retryable]).toEqual(["TAU_E_CONNECTOR_TIMEOUT", "57014", true]);
    } finally {
      await quick.close();
    }
  });

  it("a deadlock is TAU_E_CONNECTOR_CONFLICT, retryable", async () => {
    await db.call("execute", [`CREATE TABLE ${SCHEMA}.locks (id int PRIMARY KEY, v int); INSERT INTO ${SCHEMA}.locks VALUES (1, 0), (2, 0);`]);
    const a = await open();
    const b = await open();
    try {
      await a.call("execute", ["BEGIN"]);
      await b.call("execute", ["BEGIN"]);
      await a.call("execute", [`UPDATE ${SCHEMA}.locks SET v = 1 WHERE id = 1`]);
      await b.call("execute", [`UPDATE ${SCHEMA}.locks SET v = 2 WHERE id = 2`]);
      const results = await Promise.allSettled([
        a.call("execute", [`UPDATE ${SCHEMA}.locks SET v = 1 WHERE id = 2`]),
        b.call("execute", [`UPDATE ${SCHEMA}.locks SET v = 2 WHERE id = 1`]),
      ]);
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as TauError);
      expect(failed.map((e) => [e.code, e.details.sqlState])).toEqual([["TAU_E_CONNECTOR_CONFLICT", "40P01"]]);
      expect(ERRORS.TAU_E_CONNECTOR_CONFLICT.retryable).toBe(true);
    } finally {
      await a.call("execute", ["ROLLBACK"]).catch(() => undefined);
      await b.call("execute", ["ROLLBACK"]).catch(() => undefined);
      await a.close();
      await b.close();
    }
  });

  it("the converter maps every SQLSTATE group it is given, including those hard to provoke here", () => {
    const code = (state: string): string => convertPgError(Object.assign(new Error("x"), { code: state })).code;
    expect(["28P01", "28000"].map(code)).toEqual(["TAU_E_CONNECTOR_AUTH_FAILED", "TAU_E_CONNECTOR_AUTH_FAILED"]);
    expect(["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT"].map(code)).toEqual(Array(3).fill("TAU_E_CONNECTOR_UNREACHABLE"));
    expect(["40001", "40P01"].map(code)).toEqual(["TAU_E_CONNECTOR_CONFLICT", "TAU_E_CONNECTOR_CONFLICT"]);
    expect(code("57014")).toBe("TAU_E_CONNECTOR_TIMEOUT");
    expect(code("XX000")).toBe("TAU_E_CONNECTOR_QUERY_FAILED");
    expect(convertPgError(new Error("timeout expired")).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
  });

  it("close interrupts a statement in flight and later calls fail with TAU_E_CONNECTOR_CLOSED", async () => {
    const h = await open();
    const started = Date.now();
    const running = h.call("execute", ["SELECT pg_sleep(20)"]).catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    await h.close();
    expect(await running).toBeInstanceOf(TauError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await failure(h.call("extract", ["SELECT 1"]))).code).toBe("TAU_E_CONNECTOR_CLOSED");
  });
});
