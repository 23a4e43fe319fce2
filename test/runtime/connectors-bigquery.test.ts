/**
 * The `bigquery` driver with the official @google-cloud/bigquery client against a loopback server speaking
 * BigQuery's REST API v2 (test/runtime/fakes/bigquery-server.ts), reached through `apiEndpoint` with an
 * OAuth2 access token. No real BigQuery runs here: these tests check the requests the driver makes and how it
 * reads answers and Google's error bodies, not BigQuery's own SQL semantics.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy } from "../../policies";
import { BigQueryDriver, type BigQueryConnector } from "../../runtime/connectors/bigquery";
import type { ConnectorContext, RawJson } from "../../runtime/connectors/types";
import { FakeBigQuery } from "./fakes/bigquery-server";

let server: FakeBigQuery;
const driver = new BigQueryDriver();
const open: BigQueryConnector[] = [];

function ctx(policy: Policy = LOCAL_POLICY, limits = policy.limits): ConnectorContext {
  return { dataDir: "/nonexistent", policy, limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<BigQueryConnector> {
  const c = await driver.open({ projectId: "proj", accessToken: "test-token", apiEndpoint: server.url, dataset: "sales", ...options }, context);
  open.push(c);
  return c;
}

async function extract(c: BigQueryConnector, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
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
  server = await FakeBigQuery.start({ token: "test-token", datasets: ["sales"], denied: ["payroll"] });
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

describe("bigquery: reading", () => {
  it("extract runs a query job and reads typed rows from getQueryResults", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE `proj`.`sales`.`events` (`id` INT64, `name` STRING, `at` TIMESTAMP, `ok` BOOL, `doc` JSON)", []]);
    const r = await db.call("execute", [
      "INSERT INTO `proj`.`sales`.`events` VALUES (1, 'a', TIMESTAMP '2024-01-02 03:04:05.123456+00', true, '{\"k\":[1]}'), (2, NULL, NULL, false, NULL)",
      [],
    ]);
    expect(r).toEqual({ rowsAffected: 2 });
    expect(await extract(db, "SELECT * FROM `proj`.`sales`.`events` ORDER BY id")).toEqual([
      { id: 1, name: "a", at: "2024-01-02T03:04:05.123456Z", ok: true, doc: { k: [1] } },
      { id: 2, name: null, at: null, ok: false, doc: null },
    ]);
    expect(server.requests.some((q) => q.method === "POST" && q.path === "/bigquery/v2/projects/proj/jobs")).toBe(true);
    expect(server.requests.some((q) => q.method === "GET" && /^\/bigquery\/v2\/projects\/proj\/queries\/[\w-]+$/.test(q.path))).toBe(true);
  });

  it("binds positional ? params with their BigQuery types (nulls typed too)", async () => {
    const db = await connect();
    expect(await extract(db, "SELECT ? + 1 AS n, ? AS s, ? AS z", [41, "x", null])).toEqual([{ n: 42, s: "x", z: null }]);
    const job = server.requests.find((q) => q.path.endsWith("/jobs") && q.method === "POST")!.body as {
      configuration: { query: { parameterMode: string; queryParameters: { parameterType: { type: string } }[] } };
    };
    expect(job.configuration.query.parameterMode).toBe("positional");
    expect(job.configuration.query.queryParameters.map((p) => p.parameterType.type)).toEqual(["INT64", "STRING", "STRING"]);
  });

  it("stream pages through getQueryResults with maxResults and pageToken", async () => {
    const db = await connect();
    const cursor = await db.openCursor("SELECT range AS n FROM range(2500)", [], 1000);
    const sizes: number[] = [];
    for (let rows = await cursor.next(); rows !== null; rows = await cursor.next()) {
      sizes.push(rows.length);
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    const pages = server.requests.filter((q) => q.path.includes("/queries/"));
    expect(pages.map((q) => [q.query.maxResults, q.query.pageToken])).toEqual([
      ["1000", undefined],
      ["1000", "1000"],
      ["1000", "2000"],
    ]);
  });

  it("a job still running (jobComplete: false) is polled until its rows are ready", async () => {
    const db = await connect();
    expect(await extract(db, "/* pending */ SELECT 7 AS n")).toEqual([{ n: 7 }]);
    expect(server.requests.filter((q) => q.path.includes("/queries/"))).toHaveLength(3);
  });

  it("extract past the policy's row cap fails with TAU_E_CONNECTOR_RESULT_TOO_LARGE", async () => {
    const db = await connect({}, ctx(LOCAL_POLICY, { ...DEFAULT_LIMITS, extractRows: 10 }));
    expect((await failure(extract(db, "SELECT range FROM range(50)"))).code).toBe("TAU_E_CONNECTOR_RESULT_TOO_LARGE");
  });

  it("getSchema reads tables.get; a table without a dataset uses the connector's dataset", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE `proj`.`sales`.`people` (`id` INT64, `tags` ARRAY<STRING>)", []]);
    expect(await db.call("getSchema", ["people"])).toEqual([
      { name: "id", type: "INT64", nullable: true },
      { name: "tags", type: "STRING", nullable: true },
    ]);
    expect(server.requests.at(-1)!.path).toBe("/bigquery/v2/projects/proj/datasets/sales/tables/people");
  });
});

describe("bigquery: loading", () => {
  it("append to a missing table stages rows with insertAll and creates the table from the stage", async () => {
    const db = await connect();
    const rows = [
      { id: 1, name: "a", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123Z", doc: { a: 1 } },
      { id: 2, name: null, price: 2, paid: false, day: "2024-02-03", at: null, doc: null },
    ];
    expect(await db.call("load", [rows, { table: "sales.orders" }])).toBe(2);
    expect(await db.call("getSchema", ["sales.orders"])).toEqual([
      { name: "id", type: "INT64", nullable: true },
      { name: "name", type: "STRING", nullable: true },
      { name: "price", type: "FLOAT64", nullable: true },
      { name: "paid", type: "BOOL", nullable: true },
      { name: "day", type: "DATE", nullable: true },
      { name: "at", type: "TIMESTAMP", nullable: true },
      { name: "doc", type: "JSON", nullable: true },
    ]);
    expect(await extract(db, "SELECT id, name, day, `at`, doc FROM `proj`.`sales`.`orders` ORDER BY id")).toEqual([
      { id: 1, name: "a", day: "2024-01-02", at: "2024-01-02T03:04:05.123Z", doc: { a: 1 } },
      { id: 2, name: null, day: "2024-02-03", at: null, doc: null },
    ]);
    const insert = server.requests.find((q) => q.path.endsWith("/insertAll"))!;
    expect(insert.path).toMatch(/^\/bigquery\/v2\/projects\/proj\/datasets\/sales\/tables\/__tau_stage_\w+\/insertAll$/);
    const sent = (insert.body as { rows: { insertId: string; json: Record<string, unknown> }[] }).rows;
    expect(sent[0].json).toEqual({ id: 1, name: "a", price: 1.5, paid: true, day: "2024-01-02", at: "2024-01-02T03:04:05.123Z", doc: '{"a":1}' });
    expect(sent[0].insertId).toMatch(/^__tau_stage_\w+_0$/);
    const statements = jobQueries();
    expect(statements.some((s) => /^CREATE TABLE `proj`\.`sales`\.`orders` AS SELECT `id`, .* FROM `proj`\.`sales`\.`__tau_stage_\w+`$/.test(s))).toBe(true);
    expect(statements.at(-2)).toMatch(/^DROP TABLE IF EXISTS `proj`\.`sales`\.`__tau_stage_\w+`$/);
  });

  it("append adds columns for new fields, then INSERT … SELECT", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1 }], { table: "wide" }]);
    expect(await db.call("load", [[{ id: 2, note: "n" }], { table: "wide" }])).toBe(1);
    expect(await extract(db, "SELECT * FROM sales.wide ORDER BY id")).toEqual([
      { id: 1, note: null },
      { id: 2, note: "n" },
    ]);
    expect(jobQueries()).toContain("ALTER TABLE `proj`.`sales`.`wide` ADD COLUMN IF NOT EXISTS `note` STRING");
  });

  it("a value that does not fit an existing column is TAU_E_CONNECTOR_TYPE_MISMATCH and the table is unchanged", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, qty: 5 }], { table: "typed" }]);
    const err = await failure(db.call("load", [[{ id: 2, qty: "many" }], { table: "typed" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details).toMatchObject({ column: "qty", columnType: "INT64" });
    expect(await extract(db, "SELECT * FROM sales.typed")).toEqual([{ id: 1, qty: 5 }]);
  });

  it("replace is one CREATE OR REPLACE TABLE … AS SELECT from the stage", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1 }, { id: 2 }], { table: "snap" }]);
    expect(await db.call("load", [[{ id: 9 }], { table: "snap", mode: "replace" }])).toBe(1);
    expect(await extract(db, "SELECT * FROM sales.snap")).toEqual([{ id: 9 }]);
    expect(jobQueries().some((s) => /^CREATE OR REPLACE TABLE `proj`\.`sales`\.`snap` AS SELECT `id` FROM/.test(s))).toBe(true);
  });

  it("upsert is one MERGE from the stage; running it twice is idempotent", async () => {
    const db = await connect();
    await db.call("load", [[{ id: 1, v: "old" }, { id: 2, v: "keep" }], { table: "kv" }]);
    const batch = [{ id: 1, v: "new" }, { id: 3, v: "added" }];
    expect(await db.call("load", [batch, { table: "kv", mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await db.call("load", [batch, { table: "kv", mode: "upsert", mergeKey: "id" }])).toBe(2);
    expect(await extract(db, "SELECT * FROM sales.kv ORDER BY id")).toEqual([
      { id: 1, v: "new" },
      { id: 2, v: "keep" },
      { id: 3, v: "added" },
    ]);
    expect(jobQueries().some((s) => /^MERGE INTO `proj`\.`sales`\.`kv` AS T USING `proj`\.`sales`\.`__tau_stage_\w+` AS S ON T\.`id` = S\.`id` WHEN MATCHED THEN UPDATE SET `v` = S\.`v` WHEN NOT MATCHED THEN INSERT \(`id`, `v`\) VALUES \(S\.`id`, S\.`v`\)$/.test(s))).toBe(true);
  });

  it("a value the driver cannot pre-check is rejected by insertAll: TAU_E_CONNECTOR_TYPE_MISMATCH, target untouched", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE `proj`.`sales`.`places` (`id` INT64, `geo` GEOGRAPHY)", []]);
    const err = await failure(db.call("load", [[{ id: 1, geo: "POINT(1 2)" }, { id: 2, geo: 5 }], { table: "places" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(err.details).toMatchObject({ reason: "invalid", failedRows: 2 });
    expect(err.message).toMatch(/^insertAll rejected 2 row\(s\): Cannot convert value to geography/);
    expect(await extract(db, "SELECT count(*) AS n FROM sales.places")).toEqual([{ n: 0 }]);
  });

  it("a timestamp into a DATE column is refused before anything is staged", async () => {
    const db = await connect();
    await db.call("execute", ["CREATE TABLE `proj`.`sales`.`strict` (`id` INT64, `day` DATE)", []]);
    const err = await failure(db.call("load", [[{ id: 1, day: "2024-01-02T00:00:00Z" }], { table: "strict" }]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(server.requests.some((q) => q.path.endsWith("/insertAll"))).toBe(false);
  });
});

describe("bigquery: errors and policy", () => {
  it("an unknown table (notFound) is TAU_E_CONNECTOR_UNKNOWN_OBJECT", async () => {
    const db = await connect();
    const err = await failure(extract(db, "SELECT * FROM sales.nowhere"));
    expect(err.code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(err.details.reason).toBe("notFound");
  });

  it("a syntax error (invalidQuery) is TAU_E_CONNECTOR_SYNTAX", async () => {
    const db = await connect();
    const err = await failure(db.call("execute", ["SELEC 1", []]));
    expect(err.code).toBe("TAU_E_CONNECTOR_SYNTAX");
    expect(err.details).toMatchObject({ reason: "invalidQuery", sql: "SELEC 1" });
  });

  it("accessDenied is TAU_E_CONNECTOR_PERMISSION_DENIED", async () => {
    const db = await connect();
    expect((await failure(extract(db, "SELECT * FROM sales.payroll"))).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
    expect((await failure(db.call("getSchema", ["payroll"]))).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
  });

  it("a rejected token (401 authError) is TAU_E_CONNECTOR_AUTH_FAILED", async () => {
    const db = await connect({ accessToken: "expired" });
    const err = await failure(extract(db, "SELECT 1"));
    expect(err.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(err.details.status).toBe(401);
  });

  it("a job timeout is TAU_E_CONNECTOR_TIMEOUT", async () => {
    const db = await connect();
    expect((await failure(extract(db, "SELECT SLEEP(5)"))).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
  });

  it("an unreachable endpoint is TAU_E_CONNECTOR_UNREACHABLE", async () => {
    const db = await connect({ apiEndpoint: "http://127.0.0.1:9" });
    expect((await failure(extract(db, "SELECT 1"))).code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
  });

  it("the egress policy is checked at open against the API host", async () => {
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ host: "*.googleapis.com" }] };
    expect((await failure(connect({}, ctx(policy)))).code).toBe("TAU_E_POLICY_DENIED");
    expect(server.requests).toHaveLength(0);
  });

  it("bad options are TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    expect((await failure(driver.open({ projectId: "p", credentials: "not json" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ accessToken: "t" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const db = await connect({ dataset: undefined });
    expect((await failure(db.call("getSchema", ["t"]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });
});

function jobQueries(): string[] {
  return server.requests
    .filter((q) => q.method === "POST" && q.path.endsWith("/jobs"))
    .map((q) => (q.body as { configuration: { query: { query: string } } }).configuration.query.query);
}
