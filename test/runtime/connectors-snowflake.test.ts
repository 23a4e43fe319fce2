/**
 * The `snowflake` driver with the official snowflake-sdk against a loopback server speaking the SDK's REST
 * login/query protocol over http (test/runtime/fakes/snowflake-server.ts). No real Snowflake runs here: these
 * tests check what the driver sends and how it reads Snowflake's result encoding and error bodies, not
 * Snowflake's own SQL semantics. Not reached at all: key-pair/OAuth login, result chunks on cloud storage,
 * https with OCSP.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy } from "../../policies";
import { SnowflakeDriver, type SnowflakeConnector } from "../../runtime/connectors/snowflake";
import type { ConnectorContext, RawJson } from "../../runtime/connectors/types";
import { FakeSnowflake } from "./fakes/snowflake-server";

let server: FakeSnowflake;
const driver = new SnowflakeDriver();
const open: SnowflakeConnector[] = [];

function ctx(policy: Policy = LOCAL_POLICY, limits = policy.limits): ConnectorContext {
  return { dataDir: "/nonexistent", policy, limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<SnowflakeConnector> {
  const c = await driver.open({ account: "acme", username: "tau", password: "pw-secret", accessUrl: server.url, warehouse: "WH", database: "DB", ...options }, context);
  open.push(c);
  return c;
}

async function extract(c: SnowflakeConnector, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
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
  server = await FakeSnowflake.start({ user: "tau", password: "pw-secret", schemas: ["SALES"], denied: ["payroll"] });
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

describe("snowflake: reading", () => {
  it("logs in, then extract decodes Snowflake's JSON result encoding", async () => {
    const db = await connect();
    const login = server.requests.find((r) => r.path === "/session/v1/login-request")!;
    expect(login.body?.data).toMatchObject({ ACCOUNT_NAME: "acme", LOGIN_NAME: "tau" });
    await db.call("execute", ["CREATE TABLE events (id NUMBER(38,0), name VARCHAR, ts TIMESTAMP_TZ, ok BOOLEAN, day DATE, doc VARIANT, price FLOAT)", []]);
    await db.call("execute", [
      "INSERT INTO events VALUES (1, 'a', TIMESTAMPTZ '2024-01-02 03:04:05.123456+00', true, DATE '2024-01-02', '{\"k\":[1]}', 1.5), (2, NULL, NULL, false, NULL, NULL, NULL)",
      [],
    ]);
    expect(await extract(db, "SELECT * FROM events ORDER BY id")).toEqual([
      { ID: 1, NAME: "a", TS: "2024-01-02T03:04:05.123456Z", OK: true, DAY: "2024-01-02", DOC: { k: [1] }, PRICE: 1.5 },
      { ID: 2, NAME: null, TS: null, OK: false, DAY: null, DOC: null, PRICE: null },
    ]);
  });

  it("binds positional ? params", async () => {
    const db = await connect();
    expect(await extract(db, "SELECT ? + 1 AS n, ? AS s", [41, "x"])).toEqual([{ N: 42, S: "x" }]);
    const q = server.requests.find((r) => r.body?.sqlText === "SELECT ? + 1 AS n, ? AS s")!;
    expect(q.body?.bindings).toEqual({ "1": { type: "FIXED", value: "41" }, "2": { type: "TEXT", value: "x" } });
  });

  it("keeps integers beyond 2^53 as decimal strings", async () => {
    const db = await connect();
    expect(await extract(db, "SELECT 9007199254740993 AS big")).toEqual([{ BIG: "9007199254740993" }]);
  });

  it("stream reads the statement's row stream in batches", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT range AS n FROM range(2500)", [], 1000);
    const sizes: number[] = [];
    for (let rows = await cursor.next(); rows !== null; rows = await cursor.next()) {
      sizes.push(rows.length);
    }
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it("extract past the policy's row cap fails with TAU_E_CONNECTOR_RESULT_TOO_LARGE", async () => {
    const db = await connect({}, ctx(LOCAL_POLICY, { ...DEFAULT_LIMITS, extractRows: 10 }));
    expect((await failure(extract(db, "SELECT range FROM range(50)"))).code).toBe("TAU_E_CONNECTOR_RESULT_TOO_LARGE");
  });

  it("getSchema is DESCRIBE TABLE", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE people (id NUMBER(38,0), email VARCHAR)", []]);
    expect(await db.call("getSchema", ["people"])).toEqual([
      { name: "ID", type: "NUMBER(38,0)", nullable: true },
      { name: "EMAIL", type: "VARCHAR(16777216)", nullable: true },
    ]);
  });
});

describe("snowflake: loading", () => {
  it("append to a missing table stages rows with array-bound INSERTs and creates the table from the stage", async () => {
    const db = await connect();
    const rows = [
      { id: 1, name: "a", price: 1.5, paid: true, day: "2024-01-02", ts: "2024-01-02T03:04:05.123Z", doc: { a: 1 } },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", ts: null, doc: null },
    ];
    expect(await db.call("load", [rows, { table: "SALES.orders" }])).toBe(2);
    expect(await db.call("getSchema", ["SALES.orders"])).toEqual([
      { name: "ID", type: "NUMBER(38,0)", nullable: true },
      { name: "NAME", type: "VARCHAR(16777216)", nullable: true },
      { name: "PRICE", type: "FLOAT", nullable: true },
      { name: "PAID", type: "BOOLEAN", nullable: true },
      { name: "DAY", type: "DATE", nullable: true },
      { name: "TS", type: "TIMESTAMP_TZ(9)", nullable: true },
      { name: "DOC", type: "VARIANT", nullable: true },
    ]);
    expect(await extract(db, "SELECT id, name, day, ts, doc FROM SALES.orders ORDER BY id")).toEqual([
      { ID: 1, NAME: "a", DAY: "2024-01-02", TS: "2024-01-02T03:04:05.123Z", DOC: { a: 1 } },
      { ID: 2, NAME: null, DAY: "2024-02-03", TS: null, DOC: null },
    ]);
    const insert = server.requests.find((r) => /^INSERT INTO SALES\.__TAU_STAGE_\w+ \(ID, NAME, PRICE, PAID, DAY, TS, DOC\) VALUES \(\?, \?, \?, \?, \?, \?, \?\)$/.test(r.body?.sqlText ?? ""))!;
    expect(insert.body?.bindings?.["1"]).toEqual({ type: "TEXT", value: ["1", "2"] });
    expect(insert.body?.bindings?.["7"]).toEqual({ type: "TEXT", value: ['{"a":1}', null] });
    expect(server.statements).toContainEqual(expect.stringMatching(/^CREATE TEMPORARY TABLE SALES\.__TAU_STAGE_\w+ \(ID NUMBER\(38,0\), .* DOC VARCHAR\)$/));
    expect(server.statements).toContainEqual(expect.stringMatching(/^CREATE TABLE SALES\.ORDERS AS SELECT ID, NAME, PRICE, PAID, DAY, TS, PARSE_JSON\(DOC\) AS DOC FROM SALES\.__TAU_STAGE_\w+$/));
  });

  it("append adds columns for new fields; array binds are split under the bind limit", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1 }], { table: "wide" }]);
    server.requests.length = 0;
    const many = Array.from({ length: 70_000 }, (_v, i) => ({ id: i + 2, note: i === 0 ? "n" : null }));
    expect(await db.call("load", [many, { table: "wide" }])).toBe(70_000);
    expect(await extract(db, "SELECT count(*) AS c, count(note) AS notes FROM wide")).toEqual([{ C: 70_001, NOTES: 1 }]);
    expect(server.statements).toContain("ALTER TABLE WIDE ADD COLUMN IF NOT EXISTS NOTE VARCHAR");
    const inserts = server.requests.filter((r) => /^INSERT INTO __TAU_STAGE_/.test(r.body?.sqlText ?? ""));
    expect(inserts.map((r) => (r.body!.bindings!["1"].value as unknown[]).length)).toEqual([30_000, 30_000, 10_000]);
  });

  it("a value that does not fit an existing column is TAU_E_CONNECTOR_TYPE_MISMATCH and the table is unchanged", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, qty: 5 }], { table: "typed" }]);
    const err = await failure(db.call("load", [[{ id: 2, qty: "many" }], { table: "typed" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details).toMatchObject({ column: "QTY", columnType: "NUMBER(38,0)" });
    expect(await extract(db, "SELECT * FROM typed")).toEqual([{ ID: 1, QTY: 5 }]);
  });

  it("replace builds a new table and swaps it in with ALTER TABLE … SWAP WITH", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1 }, { id: 2 }], { table: "snap" }]);
    expect(await db.call("load", [[{ id: 9 }], { table: "snap", mode: "replace" }])).toBe(1);
    expect(await extract(db, "SELECT * FROM snap")).toEqual([{ ID: 9 }]);
    expect(server.statements).toContainEqual(expect.stringMatching(/^ALTER TABLE SNAP SWAP WITH __TAU_STAGE_\w+$/));
    expect(await extract(db, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE '__TAU_STAGE%'")).toEqual([{ N: 0 }]);
  });

  it("upsert is one MERGE from the stage; running it twice is idempotent", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, v: "old" }, { id: 2, v: "keep" }], { table: "kv" }]);
    const batch = [{ id: 1, v: "new" }, { id: 3, v: "added" }];
    expect(await db.call("load", [batch, { table: "kv", mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await db.call("load", [batch, { table: "kv", mode: "upsert", mergeKey: ["ID"] }])).toBe(2);
    expect(await extract(db, "SELECT * FROM kv ORDER BY id")).toEqual([
      { ID: 1, V: "new" },
      { ID: 2, V: "keep" },
      { ID: 3, V: "added" },
    ]);
    expect(server.statements).toContainEqual(
      expect.stringMatching(/^MERGE INTO KV AS T USING \(SELECT ID, V FROM __TAU_STAGE_\w+\) AS S ON T\.ID = S\.ID WHEN MATCHED THEN UPDATE SET V = S\.V WHEN NOT MATCHED THEN INSERT \(ID, V\) VALUES \(S\.ID, S\.V\)$/),
    );
  });

  it("execute reports rows affected from the DML result", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1 }, { id: 2 }, { id: 3 }], { table: "del" }]);
    expect(await db.call("execute", ["DELETE FROM del WHERE id > ?", [1]])).toEqual({ rowsAffected: 2 });
    expect(await db.call("execute", ["CREATE TABLE x (a VARCHAR)", []])).toEqual({ rowsAffected: null });
  });
});

describe("snowflake: errors and policy", () => {
  it("a wrong password fails at open with TAU_E_CONNECTOR_AUTH_FAILED", async () => {
    const started = Date.now();
    const err = await failure(connect({ password: "wrong" }));
    expect(err.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(err.details.snowflakeCode).toBe("390100");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("an unknown table is TAU_E_CONNECTOR_UNKNOWN_OBJECT, a syntax error TAU_E_CONNECTOR_SYNTAX", async () => {
    const db = await connect();
    const unknown = await failure(extract(db, "SELECT * FROM nowhere"));
    expect(unknown.code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(unknown.details).toMatchObject({ snowflakeCode: "002003", sql: "SELECT * FROM nowhere" });
    expect((await failure(db.call("execute", ["SELEC 1", []]))).code).toBe("TAU_E_CONNECTOR_SYNTAX");
  });

  it("missing privileges are TAU_E_CONNECTOR_PERMISSION_DENIED; a statement timeout TAU_E_CONNECTOR_TIMEOUT", async () => {
    const db = await connect();
    expect((await failure(extract(db, "SELECT * FROM payroll"))).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
    expect((await failure(extract(db, "SELECT SYSTEM$WAIT(5)"))).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
  });

  it("an unreachable account is TAU_E_CONNECTOR_UNREACHABLE within the login timeout", async () => {
    const started = Date.now();
    const err = await failure(driver.open({ account: "acme", username: "tau", password: "x", accessUrl: "http://127.0.0.1:9", loginTimeoutSec: 5 }, ctx()));
    expect(err.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("the egress policy is checked before login", async () => {
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ host: "*.snowflakecomputing.com" }] };
    expect((await failure(connect({}, ctx(policy)))).code).toBe("TAU_E_POLICY_DENIED");
    expect(server.requests).toHaveLength(0);
  });

  it("bad options are TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    expect((await failure(driver.open({ account: "a", username: "u" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ account: "a", username: "u", password: "p", token: "t" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ account: "a", username: "u", password: "p", warehuose: "x" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });
});
