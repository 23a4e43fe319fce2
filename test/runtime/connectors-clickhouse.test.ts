/**
 * The `clickhouse` driver with the official @clickhouse/client against a loopback server speaking
 * ClickHouse's HTTP interface (test/runtime/fakes/clickhouse-server.ts). No real ClickHouse runs here: these
 * tests check what the driver sends and how it reads answers and errors, not ClickHouse's own semantics.
 */
import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy } from "../../policies";
import { ClickHouseDriver, type ClickHouseConnector } from "../../runtime/connectors/clickhouse";
import type { ConnectorContext, RawJson } from "../../runtime/connectors/types";
import { FakeClickHouse } from "./fakes/clickhouse-server";

let server: FakeClickHouse;
const driver = new ClickHouseDriver();
const open: ClickHouseConnector[] = [];

function ctx(policy: Policy = LOCAL_POLICY, limits = policy.limits): ConnectorContext {
  return { dataDir: "/nonexistent", policy, limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<ClickHouseConnector> {
  const c = await driver.open({ url: server.url, username: "tau", password: "s3cret-pw", ...options }, context);
  open.push(c);
  return c;
}

async function extract(c: ClickHouseConnector, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return JSON.parse(((await c.call("extract", [sql, params])) as RawJson).text) as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  server = await FakeClickHouse.start({ user: "tau", password: "s3cret-pw", databases: ["analytics"], denied: ["salaries"] });
});
afterAll(async () => {
  await server.stop();
});
beforeEach(() => {
  server.requests.length = 0;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe("clickhouse: reading", () => {
  it("extract returns rows with 64-bit integers as numbers and timestamps as ISO text", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE `events` (`id` Int64, `name` Nullable(String), `at` DateTime64(3), `ok` Bool) ENGINE = MergeTree ORDER BY id", []]);
    await db.call("execute", ["INSERT INTO events VALUES (1, 'a', TIMESTAMP '2024-01-02 03:04:05.123', true), (2, NULL, TIMESTAMP '2024-02-03 00:00:00', false)", []]);
    expect(await extract(db, "SELECT * FROM events ORDER BY id")).toEqual([
      { id: 1, name: "a", at: "2024-01-02T03:04:05.123Z", ok: true },
      { id: 2, name: null, at: "2024-02-03T00:00:00.000Z", ok: false },
    ]);
    const query = server.requests.find((r) => r.body.includes("SELECT * FROM events"))!;
    expect(query.body).toMatch(/FORMAT JSONCompactEachRowWithNamesAndTypes$/);
    expect(query.params.date_time_output_format).toBe("iso");
  });

  it("binds positional params as ClickHouse server-side parameters {p1:Type}", async () => {
    const db = await connect();
    const rows = await extract(db, "SELECT {p1:Int64} + 1 AS n, {p2:String} AS s", [41, "x"]);
    expect(rows).toEqual([{ n: 42, s: "x" }]);
    const q = server.requests.find((r) => r.body.includes("{p1:Int64}"))!;
    expect(q.params).toMatchObject({ param_p1: "41", param_p2: "x" });
  });

  it("keeps integers beyond 2^53 as decimal strings", async () => {
    const db = await connect();
    expect(await extract(db, "SELECT 9007199254740993 AS big")).toEqual([{ big: "9007199254740993" }]);
  });

  it("stream reads a result batch by batch from the response stream", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT number FROM numbers(2500)", [], 1000);
    const sizes: number[] = [];
    let first: unknown = null;
    for (let rows = await cursor.next(); rows !== null; rows = await cursor.next()) {
      first ??= rows[0];
      sizes.push(rows.length);
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(first).toEqual({ number: 0 });
  });

  it("a cursor closed early releases the response", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT number FROM numbers(50000)", [], 100);
    expect((await cursor.next())!.length).toBe(100);
    await cursor.close();
    await cursor.close();
    expect(await extract(db, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("an exception ClickHouse sends after the first rows (exception tag framing) fails the read with ClickHouse's code", async () => {
    const db = await connect();
    const err = await failure(extract(db, "SELECT number FROM numbers(5000) /* fail after 1500 */"));
    expect(err.code).toBe("TAU_E_CONNECTOR_QUERY_FAILED");
    expect(err.message).toBe("Value passed to 'throwIf' function is non-zero.");
    expect(err.details).toMatchObject({ clickhouseCode: 395, clickhouseError: "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO" });
    expect(await extract(db, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("extract past the policy's row cap fails with TAU_E_CONNECTOR_RESULT_TOO_LARGE", async () => {
    const db = await connect({}, ctx(LOCAL_POLICY, { ...DEFAULT_LIMITS, extractRows: 100 }));
    const err = await failure(extract(db, "SELECT number FROM numbers(1000)"));
    expect(err.code).toBe("TAU_E_CONNECTOR_RESULT_TOO_LARGE");
    expect(err.details.limitRows).toBe(100);
  });

  it("getSchema lists columns with ClickHouse's types", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE analytics.users (`id` Int64, `email` Nullable(String)) ENGINE = MergeTree ORDER BY id", []]);
    expect(await db.call("getSchema", ["analytics.users"])).toEqual([
      { name: "id", type: "Int64", nullable: false },
      { name: "email", type: "Nullable(String)", nullable: true },
    ]);
  });
});

describe("clickhouse: loading", () => {
  it("append creates a missing table from the rows' types, through a staging table renamed into place", async () => {
    const db = await connect();
    const rows = [
      { id: 1, name: "a", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123Z", tags: ["x"] },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", at: null, tags: { a: 1 } },
    ];
    expect(await db.call("load", [rows, { table: "analytics.orders" }])).toBe(2);
    expect(await db.call("getSchema", ["analytics.orders"])).toEqual([
      { name: "id", type: "Nullable(Int64)", nullable: true },
      { name: "name", type: "Nullable(String)", nullable: true },
      { name: "price", type: "Nullable(Float64)", nullable: true },
      { name: "paid", type: "Nullable(Bool)", nullable: true },
      { name: "day", type: "Nullable(Date)", nullable: true },
      { name: "at", type: "Nullable(DateTime64(3))", nullable: true },
      { name: "tags", type: "Nullable(String)", nullable: true },
    ]);
    expect(await extract(db, "SELECT id, name, day, `at`, tags FROM analytics.orders ORDER BY id")).toEqual([
      { id: 1, name: "a", day: "2024-01-02", at: "2024-01-02T03:04:05.123Z", tags: '["x"]' },
      { id: 2, name: null, day: "2024-02-03", at: null, tags: '{"a":1}' },
    ]);
    const insert = server.requests.find((r) => r.params.query?.startsWith("INSERT INTO"))!;
    expect(insert.params.query).toMatch(/^INSERT INTO `analytics`\.`__tau_stage_\w+` \(`id`, `name`, .*\) FORMAT JSONEachRow$/);
    expect(insert.body.trim().split("\n")).toHaveLength(2);
    expect(server.requests.some((r) => /^RENAME TABLE `analytics`\.`__tau_stage_\w+` TO `analytics`\.`orders`$/.test(r.body))).toBe(true);
  });

  it("append to an existing table adds columns for new fields and inserts with one INSERT … SELECT", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, v: "a" }], { table: "widen" }]);
    expect(await db.call("load", [[{ id: 2, v: "b", extra: 3.5 }], { table: "widen", mode: "append" }])).toBe(2 - 1);
    expect(await extract(db, "SELECT * FROM widen ORDER BY id")).toEqual([
      { id: 1, v: "a", extra: null },
      { id: 2, v: "b", extra: 3.5 },
    ]);
    expect(server.requests.some((r) => /^ALTER TABLE `widen` ADD COLUMN IF NOT EXISTS `extra` Nullable\(Float64\)$/.test(r.body))).toBe(true);
  });

  it("a value that does not fit an existing column fails with TAU_E_CONNECTOR_TYPE_MISMATCH and leaves the table as it was", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, qty: 5 }], { table: "typed" }]);
    const err = await failure(db.call("load", [[{ id: 2, qty: 6 }, { id: 3, qty: "many" }], { table: "typed" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details).toMatchObject({ column: "qty", columnType: "Nullable(Int64)", valueKind: "string" });
    expect(await extract(db, "SELECT * FROM typed")).toEqual([{ id: 1, qty: 5 }]);
    expect(await extract(db, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '__tau_stage%'")).toEqual([]);
  });

  it("replace builds a new table and swaps it in with EXCHANGE TABLES", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1 }, { id: 2 }], { table: "snap" }]);
    expect(await db.call("load", [[{ id: 7 }], { table: "snap", mode: "replace" }])).toBe(1);
    expect(await extract(db, "SELECT * FROM snap")).toEqual([{ id: 7 }]);
    expect(server.requests.some((r) => /^EXCHANGE TABLES `snap` AND `__tau_stage_\w+`$/.test(r.body))).toBe(true);
    expect(server.requests.some((r) => /^CREATE TABLE `__tau_stage_\w+` AS `snap`$/.test(r.body))).toBe(true);
  });

  it("upsert deletes the staged keys synchronously, then inserts; running it twice is idempotent", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, v: "old" }, { id: 2, v: "keep" }], { table: "kv" }]);
    const batch = [{ id: 1, v: "new" }, { id: 3, v: "added" }];
    expect(await db.call("load", [batch, { table: "kv", mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await db.call("load", [batch, { table: "kv", mode: "upsert", mergeKey: ["id"] }])).toBe(2);
    expect(await extract(db, "SELECT * FROM kv ORDER BY id")).toEqual([
      { id: 1, v: "new" },
      { id: 2, v: "keep" },
      { id: 3, v: "added" },
    ]);
    const del = server.requests.find((r) => r.body.startsWith("ALTER TABLE `kv` DELETE"))!;
    expect(del.body).toMatch(/^ALTER TABLE `kv` DELETE WHERE \(`id`\) IN \(SELECT `id` FROM `__tau_stage_\w+`\)$/);
    expect(del.params.mutations_sync).toBe("2");
  });

  it("upsert without mergeKey, or with a key absent from the rows, is TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    const db = await connect();
    expect((await failure(db.call("load", [[{ id: 1 }], { table: "kv2", mode: "upsert" }]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const err = await failure(db.call("load", [[{ id: 1 }], { table: "kv2", mode: "upsert", mergeKey: "code" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(err.details.column).toBe("code");
  });

  it("loadFrom takes a cursor of the same connector, batch by batch (the host-side copy path)", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT number AS id, number * 2 AS twice FROM numbers(2300)", [], 1000);
    const source = {
      async *[Symbol.asyncIterator]() {
        for (let b = await cursor.next(); b !== null; b = await cursor.next()) yield b;
      },
    };
    expect(await db.loadFrom(source, { table: "copied", mode: "append", mergeKey: null })).toBe(2300);
    expect(await extract(db, "SELECT count(*) AS n, sum(twice) AS s FROM copied")).toEqual([{ n: 2300, s: 2300 * 2299 }]);
    expect(server.requests.filter((r) => r.params.query?.startsWith("INSERT INTO")).length).toBe(3);
  });
});

describe("clickhouse: errors and policy", () => {
  it("an unknown table is TAU_E_CONNECTOR_UNKNOWN_OBJECT with ClickHouse's code", async () => {
    const db = await connect();
    const err = await failure(extract(db, "SELECT * FROM nowhere"));
    expect(err.code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(err.details).toMatchObject({ clickhouseCode: 60, clickhouseError: "UNKNOWN_TABLE", sql: "SELECT * FROM nowhere" });
  });

  it("a syntax error is TAU_E_CONNECTOR_SYNTAX", async () => {
    const db = await connect();
    expect((await failure(db.call("execute", ["SELEC 1", []]))).code).toBe("TAU_E_CONNECTOR_SYNTAX");
  });

  it("a wrong password fails at open with TAU_E_CONNECTOR_AUTH_FAILED", async () => {
    const err = await failure(driver.open({ url: server.url, username: "tau", password: "wrong" }, ctx()));
    expect(err.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(err.details.clickhouseError).toBe("AUTHENTICATION_FAILED");
  });

  it("a missing grant is TAU_E_CONNECTOR_PERMISSION_DENIED", async () => {
    const db = await connect();
    expect((await failure(extract(db, "SELECT * FROM salaries"))).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
  });

  it("a server-side timeout is TAU_E_CONNECTOR_TIMEOUT", async () => {
    const db = await connect();
    expect((await failure(extract(db, "SELECT sleep(3)"))).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
  });

  it("a closed port is TAU_E_CONNECTOR_UNREACHABLE naming host and port", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await failure(driver.open({ url: `http://127.0.0.1:${port}` }, ctx()));
    expect(err.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
    expect(err.details).toMatchObject({ host: "127.0.0.1", port });
  });

  it("the egress policy is checked before any request, against the resolved address", async () => {
    const before = server.requests.length;
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "10.0.0.0/8" }] };
    const err = await failure(driver.open({ url: `http://localhost:${server.port}` }, ctx(policy)));
    expect(err.code).toBe("TAU_E_POLICY_DENIED");
    expect(server.requests.length).toBe(before);
    const allowed: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "127.0.0.0/8", ports: [server.port] }] };
    const db = await connect({ url: `http://localhost:${server.port}` }, ctx(allowed));
    expect(await extract(db, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("unknown options and non-http URLs are TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    expect((await failure(driver.open({ url: server.url, passwd: "x" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ url: "ftp://x" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("calls after close fail with TAU_E_CONNECTOR_CLOSED", async () => {
    const db = await connect();
    await db.close();
    expect((await failure(db.call("extract", ["SELECT 1", []]))).code).toBe("TAU_E_CONNECTOR_CLOSED");
  });
});
