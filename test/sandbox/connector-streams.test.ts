/**
 * Streams, query-handle copies and load modes through the whole path: a pipeline in a real executor process
 * (private build, see streams-build.ts), the bridge, the run's cursor registry and real DuckDB files.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import type { ExecutorPool } from "../../sandbox/pool";
import { policyWith, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

const HEAD = `import { pipeline } from "tau";\nimport { duckdb_local, motherduck } from "tau/connectors";\n`;
const file = (body: string): string => `${HEAD}export default pipeline({ name: "streams" }, async (ctx) => {\n${body}\n});\n`;

const TOKEN = "md-test-token.abcdef0123456789";
let b: PrivateBuild;
let pool: ExecutorPool;
const dir = tempDir("tau-streams-");

beforeAll(async () => {
  b = await buildPrivateExecutor();
  pool = await startPrivatePool(b, 1, { MOTHERDUCK_TOKEN: TOKEN });
}, 60_000);
afterAll(async () => {
  await pool?.close();
  b?.remove();
  dir.remove();
});

async function run(body: string, limits: Parameters<typeof policyWith>[0] = {}, base = LOCAL_POLICY): Promise<{ status: string; result?: any; error?: any }> {
  const { outcome } = await runSource(pool, file(body), { dataDir: dir.path, policy: policyWith(limits, base) });
  return outcome as { status: string; result?: any; error?: any };
}

async function query(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  try {
    const c = await instance.connect();
    const rows = (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    c.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

describe("stream() through the bridge", () => {
  it("yields a query's rows in batches of batchSize, in order, and ends", async () => {
    const outcome = await run(`
  await using db = duckdb_local("s1.duckdb");
  const sizes: number[] = [];
  let sum = 0;
  for await (const batch of db.stream<{ i: number }>("SELECT range AS i FROM range(25000) ORDER BY i", [], { batchSize: 10000 })) {
    sizes.push(batch.length);
    for (const row of batch) sum += row.i;
  }
  return { sizes, sum };`);
    expect(outcome).toEqual({ status: "succeeded", result: { sizes: [10000, 10000, 5000], sum: (24999 * 25000) / 2 } });
  });

  it("breaking out of the loop closes the cursor: twenty broken streams in a row stay under the run's cap of sixteen", async () => {
    const outcome = await run(`
  await using db = duckdb_local("s2.duckdb");
  let first = 0;
  for (let k = 0; k < 20; k++) {
    for await (const batch of db.stream<{ i: number }>("SELECT range AS i FROM range(100000)", [], { batchSize: 100 })) {
      first += batch.length;
      break;
    }
  }
  const open = [];
  for (let k = 0; k < 17; k++) {
    const s = db.stream("SELECT 1 AS one", [], { batchSize: 1 });
    open.push(s);
    try { await s.next(); } catch (e: any) { return { first, capHitAt: k, code: e.code }; }
  }
  return { first, capHitAt: null };`);
    expect(outcome).toEqual({ status: "succeeded", result: { first: 2000, capHitAt: 16, code: "TAU_E_CONNECTOR_ARGS_INVALID" } });
  });

  it("a 1M-row stream runs in a 48 MB isolate, holding one batch at a time", async () => {
    const outcome = await run(
      `
  await using db = duckdb_local("s3.duckdb");
  let rows = 0, maxBatch = 0, batches = 0;
  for await (const batch of db.stream<{ id: number; name: string }>("SELECT range AS id, 'name ' || range AS name FROM range(1000000)")) {
    rows += batch.length; batches++;
    if (batch.length > maxBatch) maxBatch = batch.length;
  }
  return { rows, maxBatch, batches };`,
      { memoryMb: 48 },
    );
    expect(outcome).toEqual({ status: "succeeded", result: { rows: 1_000_000, maxBatch: 10_000, batches: 100 } });
  }, 60_000);

  it("the same rows taken with extract() do not fit in that isolate (what the stream above avoids)", async () => {
    const outcome = await run(
      `
  await using db = duckdb_local(":memory:");
  const rows = await db.extract<{ id: number; name: string }>("SELECT range AS id, 'name ' || range AS name FROM range(1000000)");
  return rows.length;`,
      { memoryMb: 48 },
    );
    expect(outcome).toMatchObject({ status: "failed", error: { code: "TAU_E_RUN_MEMORY_LIMIT" } });
  }, 60_000);

  it("disposing the connector closes its open streams: a later next() fails with TAU_E_CONNECTOR_CLOSED", async () => {
    const outcome = await run(`
  const db = duckdb_local("s4.duckdb");
  const s = db.stream<{ i: number }>("SELECT range AS i FROM range(50000)", [], { batchSize: 1000 });
  const first = await s.next();
  await db.close();
  try { await s.next(); return "no error"; } catch (e: any) { return { first: first.value?.length, code: e.code }; }`);
    expect(outcome).toEqual({ status: "succeeded", result: { first: 1000, code: "TAU_E_CONNECTOR_CLOSED" } });
  });

  it("stream arguments are checked in the guest: a bad batchSize is TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    const outcome = await run(`
  await using db = duckdb_local(":memory:");
  try { db.stream("SELECT 1", [], { batchSize: 0 }); return "no error"; } catch (e: any) { return e.code; }`);
    expect(outcome).toEqual({ status: "succeeded", result: "TAU_E_CONNECTOR_ARGS_INVALID" });
  });
});

describe("load with a query handle: the host-side copy", () => {
  it("copies 200k rows from one DuckDB file to another with no rows crossing the bridge", async () => {
    const outcome = await run(`
  await using source = duckdb_local("copy-src.duckdb");
  await using target = duckdb_local("copy-dst.duckdb");
  await source.execute("CREATE OR REPLACE TABLE events AS SELECT range AS id, 'event ' || range AS name, range * 0.5 AS score FROM range(200000)");
  const before = { ...(globalThis as any).__bridgeBytes };
  const copied = await target.load(source.query("SELECT * FROM events WHERE id >= ?", [0]), { table: "events_copy", mode: "replace" });
  const after = (globalThis as any).__bridgeBytes;
  return { copied, toHost: after.toHost - before.toHost, toGuest: after.toGuest - before.toGuest };`);
    expect(outcome.status).toBe("succeeded");
    expect(outcome.result.copied).toBe(200_000);
    // The load call and its answer only: a few hundred bytes, where the rows would be megabytes.
    expect(outcome.result.toHost).toBeLessThan(1000);
    expect(outcome.result.toGuest).toBeLessThan(200);
    expect(await query(join(dir.path, "copy-dst.duckdb"), "SELECT count(*) AS n, sum(id) AS s, max(name) AS m FROM events_copy")).toEqual([
      { n: "200000", s: String((199_999 * 200_000) / 2), m: "event 99999" },
    ]);
  }, 60_000);

  it("an upsert from a query handle is idempotent", async () => {
    const outcome = await run(`
  await using source = duckdb_local("up-src.duckdb");
  await using target = duckdb_local("up-dst.duckdb");
  await source.execute("CREATE OR REPLACE TABLE people AS SELECT range AS id, 'v' || range AS name FROM range(1000)");
  const q = source.query("SELECT * FROM people");
  const a = await target.load(q, { table: "people", mode: "upsert", mergeKey: "id" });
  const b = await target.load(q, { table: "people", mode: "upsert", mergeKey: "id" });
  const [{ n }] = await target.extract<{ n: number }>("SELECT count(*) AS n FROM people");
  return { a, b, n };`);
    expect(outcome).toEqual({ status: "succeeded", result: { a: 1000, b: 1000, n: 1000 } });
  });

  it("a query handle whose connector was closed is refused with TAU_E_CONNECTOR_CLOSED, and a forged handle with TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    const outcome = await run(`
  const source = duckdb_local(":memory:");
  await using target = duckdb_local("closed-dst.duckdb");
  const q = source.query("SELECT 1 AS x");
  await source.extract("SELECT 1");
  await source.close();
  const codes: string[] = [];
  try { await target.load(q, { table: "t" }); } catch (e: any) { codes.push(e.code); }
  try { await target.load({ kind: "duckdb_local", sql: "SELECT 1", params: [] } as any, { table: "t" }); } catch (e: any) { codes.push(e.code); }
  return codes;`);
    expect(outcome).toEqual({ status: "succeeded", result: ["TAU_E_CONNECTOR_CLOSED", "TAU_E_CONNECTOR_ARGS_INVALID"] });
  });
});

describe("load modes from a pipeline", () => {
  it("upsert without mergeKey fails in the guest, and with a mergeKey absent from the rows on the host, both naming the problem", async () => {
    const outcome = await run(`
  await using db = duckdb_local(":memory:");
  const out: Record<string, unknown>[] = [];
  try { await db.load([{ id: 1 }], { table: "t", mode: "upsert" } as any); } catch (e: any) { out.push({ code: e.code, message: e.message }); }
  try { await db.load([{ id: 1 }], { table: "t", mode: "upsert", mergeKey: "key" }); } catch (e: any) { out.push({ code: e.code, column: e.details.column }); }
  return out;`);
    expect(outcome.status).toBe("succeeded");
    expect(outcome.result[0]).toMatchObject({ code: "TAU_E_CONNECTOR_ARGS_INVALID", message: expect.stringContaining("mergeKey") });
    expect(outcome.result[1]).toEqual({ code: "TAU_E_CONNECTOR_ARGS_INVALID", column: "key" });
  });
});

describe("motherduck from a pipeline (no network here: no MotherDuck service is reached)", () => {
  const body = `
  await using md = motherduck({ database: "my_db", token: ctx.secret("MOTHERDUCK_TOKEN") });
  await md.extract("SELECT 1");`;

  it("the token comes from a secret; offline, the run fails with TAU_E_CONNECTOR_UNAVAILABLE and the token appears nowhere", async () => {
    const outcome = await run(body, {}, { ...LOCAL_POLICY, egress: [{ host: "api.motherduck.com", ports: [443] }] });
    expect(outcome).toMatchObject({ status: "failed", error: { code: "TAU_E_CONNECTOR_UNAVAILABLE" } });
    expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  }, 30_000);

  it("a policy without egress to api.motherduck.com refuses the open with TAU_E_POLICY_DENIED", async () => {
    const outcome = await run(body, {}, { ...LOCAL_POLICY, egress: [{ host: "db.internal" }] });
    expect(outcome).toMatchObject({ status: "failed", error: { code: "TAU_E_POLICY_DENIED" } });
  });
});
