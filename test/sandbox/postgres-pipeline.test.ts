/**
 * postgres end to end through the real sandbox: pipeline files compiled by the deploy compiler and run in a
 * real executor process (a private build of the working tree, see streams-build.ts), against the real
 * PostgreSQL at 127.0.0.1:5432.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY, type Policy } from "../../policies";
import type { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

const SCHEMA = `tau_pg_sandbox_${process.pid}`;
const DSN = "postgres://postgres@127.0.0.1:5432/test";
const BAD_USER = "tau-no-such-role-4c1d9b";
const BAD_PASSWORD = "pw-Zulu-Quebec-8842";
const BAD_DSN = `postgres://${BAD_USER}:${BAD_PASSWORD}@127.0.0.1:5432/test`;

function pgPipeline(body: string): string {
  return pipelineFile(body, { prelude: `import { postgres, redshift } from "tau/connectors";` });
}

describe("postgres pipelines in the sandbox", () => {
  const data = tempDir("tau-pg-e2e-");
  let admin: Client;
  let built: PrivateBuild;
  let pool: ExecutorPool;

  beforeAll(async () => {
    admin = new Client({ host: "127.0.0.1", database: "test", user: "postgres" });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    built = await buildPrivateExecutor();
    pool = await startPrivatePool(built, 1, {
      TAU_TEST_PG_DSN: DSN,
      TAU_TEST_PG_SCHEMA: SCHEMA,
      TAU_TEST_PG_BAD_USER: BAD_USER,
      TAU_TEST_PG_BAD_DSN: BAD_DSN,
    });
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    built?.remove();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
    data.remove();
  });

  it("a pipeline loads, upserts, streams, copies on the host and extracts, with the DSN from a secret", async () => {
    const source = pgPipeline(`
  const S = ${JSON.stringify(SCHEMA)};
  await using db = postgres({ dsn: ctx.secret("TAU_TEST_PG_DSN") });
  const rows = [];
  for (let i = 1; i <= 2500; i++) rows.push({ id: i, name: "n" + i, at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), ok: i % 2 === 0, doc: { i } });
  const loaded = await ctx.step("load", async (step) => {
    step.rowsOut = await db.load(rows, { table: S + ".orders" });
    return step.rowsOut;
  });
  const upserted = await db.load([{ id: 1, name: "first" }, { id: 9999, name: "new" }, { id: 1, name: "last" }], { table: S + ".orders_u", mode: "upsert", mergeKey: "id" });
  let streamed = 0, batches = 0;
  for await (const batch of db.stream("SELECT id FROM " + S + ".orders WHERE id > $1 ORDER BY id", [0], { batchSize: 1000 })) { streamed += batch.length; batches++; }
  const before = globalThis.__bridgeBytes.toGuest + globalThis.__bridgeBytes.toHost;
  const copied = await db.load(db.query("SELECT id, name, at, doc FROM " + S + ".orders WHERE id > $1", [500]), { table: S + ".orders_copy", mode: "replace" });
  const copyBytes = globalThis.__bridgeBytes.toGuest + globalThis.__bridgeBytes.toHost - before;
  const [summary] = await db.extract("SELECT COUNT(*) AS n, MIN(at) AS first, SUM(ok::int) AS ok, MAX(doc->>'i') AS doc FROM " + S + ".orders");
  const merged = await db.extract("SELECT * FROM " + S + ".orders_u ORDER BY id");
  const [{ n: copiedRows }] = await db.extract("SELECT COUNT(*)::int AS n FROM " + S + ".orders_copy");
  return { loaded, upserted, streamed, batches, copied, copiedRows, copyBytesSmall: copyBytes < 2000, summary, merged };`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: {
        loaded: 2500,
        upserted: 3,
        streamed: 2500,
        batches: 3,
        copied: 2000,
        copiedRows: 2000,
        copyBytesSmall: true,
        summary: { n: 2500, first: "2024-01-01T00:00:01Z", ok: 1250, doc: "999" },
        merged: [
          { id: 1, name: "last" },
          { id: 9999, name: "new" },
        ],
      },
    });
    expect(events.filter((e) => e.kind === "step.finished")).toEqual([expect.objectContaining({ step: "load", status: "succeeded", rowsOut: 2500 })]);
    expect(JSON.stringify(events)).not.toContain(DSN);
  });

  it("redshift's load path (INSERT batches, MERGE upsert) runs through the sandbox over the same protocol", async () => {
    const source = pgPipeline(`
  const S = ${JSON.stringify(SCHEMA)};
  await using rs = redshift({ host: "127.0.0.1", port: 5432, database: "test", user: "postgres" });
  const a = await rs.load([{ id: 1, v: "a" }, { id: 2, v: "b" }], { table: S + ".rs_t", mode: "upsert", mergeKey: "id" });
  const b = await rs.load([{ id: 2, v: "B" }, { id: 2, v: "B2" }], { table: S + ".rs_t", mode: "upsert", mergeKey: "id" });
  return { a, b, rows: await rs.extract("SELECT id, v FROM " + S + ".rs_t ORDER BY id") };`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: { a: 2, b: 2, rows: [{ id: 1, v: "a" }, { id: 2, v: "B2" }] },
    });
  });

  it("a secret in the options is substituted on the host and scrubbed from the auth error the pipeline sees", async () => {
    const source = pgPipeline(`
  await using db = postgres({ host: "127.0.0.1", database: "test", user: ctx.secret("TAU_TEST_PG_BAD_USER") });
  try {
    await db.execute("SELECT 1");
    return { ok: true };
  } catch (err) {
    return { code: err.code, message: err.message };
  }`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome.status).toBe("succeeded");
    const result = (outcome as { result: { code: string; message: string } }).result;
    expect(result.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(result.message).toContain("[secret:TAU_TEST_PG_BAD_USER]");
    expect(JSON.stringify({ outcome, events })).not.toContain(BAD_USER);
  });

  it("a DSN from a secret with wrong credentials fails as TAU_E_CONNECTOR_AUTH_FAILED and neither the DSN nor its password leaks", async () => {
    const source = pgPipeline(`
  await using db = postgres({ dsn: ctx.secret("TAU_TEST_PG_BAD_DSN") });
  await ctx.step("connect", async () => { await db.execute("SELECT 1"); });`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome.status).toBe("failed");
    expect((outcome as { error: { code: string; step: string } }).error).toMatchObject({ code: "TAU_E_CONNECTOR_AUTH_FAILED", step: "connect" });
    const everything = JSON.stringify({ outcome, events });
    expect(everything).not.toContain(BAD_DSN);
    expect(everything).not.toContain(BAD_PASSWORD);
  });

  it("a tenant policy without egress to the server fails the open with TAU_E_POLICY_DENIED", async () => {
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ host: "db.example.com" }] };
    const source = pgPipeline(`
  await using db = postgres({ dsn: ctx.secret("TAU_TEST_PG_DSN") });
  await db.execute("SELECT 1");`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path, policy });
    expect(outcome.status).toBe("failed");
    expect((outcome as { error: { code: string; message: string } }).error).toMatchObject({
      code: "TAU_E_POLICY_DENIED",
      message: expect.stringContaining("127.0.0.1:5432"),
    });
  });

  it("a failing statement reports the SQLSTATE's code and the line of the pipeline file", async () => {
    const source = pgPipeline(`
  await using db = postgres({ dsn: ctx.secret("TAU_TEST_PG_DSN") });
  await db.extract("SELECT * FROM no_such_table_here");`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome.status).toBe("failed");
    expect((outcome as { error: { code: string; line: number | null } }).error).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", line: 7 });
  });
});
