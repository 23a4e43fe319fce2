/**
 * clickhouse end to end through the real sandbox: pipeline files compiled by the deploy compiler and run in a
 * real executor process (a private build of the working tree, see streams-build.ts) whose driver talks to the
 * loopback ClickHouse HTTP server of test/runtime/fakes/clickhouse-server.ts with the official client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorPool } from "../../sandbox/pool";
import { FakeClickHouse } from "../runtime/fakes/clickhouse-server";
import { pipelineFile, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

const PASSWORD = "ch-secret-pw-4711";

function chPipeline(body: string): string {
  return pipelineFile(body, { prelude: `import { clickhouse } from "tau/connectors";` });
}

describe("clickhouse pipelines in the sandbox", () => {
  const data = tempDir("tau-clickhouse-e2e-");
  let server: FakeClickHouse;
  let built: PrivateBuild;
  let pool: ExecutorPool;

  beforeAll(async () => {
    server = await FakeClickHouse.start({ user: "etl", password: PASSWORD, databases: ["analytics"] });
    built = await buildPrivateExecutor();
    pool = await startPrivatePool(built, 1, { TAU_TEST_CH_URL: server.url, TAU_TEST_CH_PASSWORD: PASSWORD, TAU_TEST_CH_BAD_PASSWORD: "wrong-pw-0815" });
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    built?.remove();
    await server?.stop();
    data.remove();
  });

  it("a pipeline loads, upserts, replaces, streams, copies on the host and extracts, with secrets in the options", async () => {
    const source = chPipeline(`
  await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: ctx.secret("TAU_TEST_CH_PASSWORD") });
  const rows = [];
  for (let i = 1; i <= 2500; i++) rows.push({ id: i, name: "n" + i, at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), ok: i % 2 === 0 });
  const loaded = await ctx.step("load", async (step) => {
    step.rowsOut = await ch.load(rows, { table: "analytics.events" });
    return step.rowsOut;
  });
  await ch.load([{ id: 1, v: "old" }, { id: 2, v: "keep" }], { table: "analytics.kv" });
  const upserted = await ch.load([{ id: 1, v: "new" }, { id: 3, v: "added" }], { table: "analytics.kv", mode: "upsert", mergeKey: "id" });
  let streamed = 0, batches = 0;
  for await (const batch of ch.stream("SELECT id FROM analytics.events ORDER BY id", [], { batchSize: 1000 })) { streamed += batch.length; batches++; }
  const copied = await ch.load(ch.query("SELECT id, name FROM analytics.events WHERE id > {p1:Int64}", [500]), { table: "analytics.events_copy", mode: "replace" });
  const [summary] = await ch.extract("SELECT count(*) AS n, min(\`at\`) AS first, sum(CASE WHEN ok THEN 1 ELSE 0 END) AS ok FROM analytics.events");
  const kv = await ch.extract("SELECT * FROM analytics.kv ORDER BY id");
  const [{ n: copiedRows }] = await ch.extract("SELECT count(*) AS n FROM analytics.events_copy");
  const schema = await ch.getSchema("analytics.events");
  return { loaded, upserted, streamed, batches, copied, copiedRows, summary, kv, schema };`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: {
        loaded: 2500,
        upserted: 2,
        streamed: 2500,
        batches: 3,
        copied: 2000,
        copiedRows: 2000,
        summary: { n: 2500, first: "2024-01-01T00:00:01.000Z", ok: 1250 },
        kv: [
          { id: 1, v: "new" },
          { id: 2, v: "keep" },
          { id: 3, v: "added" },
        ],
        schema: [
          { name: "id", type: "Nullable(Int64)", nullable: true },
          { name: "name", type: "Nullable(String)", nullable: true },
          { name: "at", type: "Nullable(DateTime64(3))", nullable: true },
          { name: "ok", type: "Nullable(Bool)", nullable: true },
        ],
      },
    });
    expect(events.filter((e) => e.kind === "step.finished")).toEqual([expect.objectContaining({ step: "load", status: "succeeded", rowsOut: 2500 })]);
    // The password reached the server (basic auth) but never the pipeline.
    expect(server.requests.every((r) => !JSON.stringify(r.params).includes(PASSWORD))).toBe(true);
  });

  it("a host-side copy moves ClickHouse rows into duckdb_local without them entering the isolate", async () => {
    const source = pipelineFile(
      `
  await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: ctx.secret("TAU_TEST_CH_PASSWORD") });
  await using wh = duckdb_local(":memory:");
  const before = globalThis.__bridgeBytes.toGuest;
  const copied = await wh.load(ch.query("SELECT number AS id, CAST(number AS String) AS label FROM numbers(30000)"), { table: "copied" });
  const moved = globalThis.__bridgeBytes.toGuest - before;
  const [check] = await wh.extract("SELECT count(*) AS n, max(id) AS top FROM copied");
  return { copied, check, small: moved < 10000 };`,
      { prelude: `import { clickhouse } from "tau/connectors";` },
    );
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({ status: "succeeded", result: { copied: 30000, check: { n: 30000, top: 29999 }, small: true } });
  });

  it("a ClickHouse error fails the step with its Tau code and the SQL; a wrong password is TAU_E_CONNECTOR_AUTH_FAILED", async () => {
    const source = chPipeline(`
  await using bad = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: ctx.secret("TAU_TEST_CH_BAD_PASSWORD") });
  let auth = null;
  try { await bad.extract("SELECT 1"); } catch (err) { auth = { code: err.code, message: err.message }; }
  await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: ctx.secret("TAU_TEST_CH_PASSWORD") });
  ctx.log("auth", auth);
  await ctx.step("read", async () => ch.extract("SELECT * FROM analytics.missing_table"));
  return auth;`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome.status).toBe("failed");
    const error = (outcome as { error: { code: string; step: string | null; details?: Record<string, unknown> } }).error;
    expect(error).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", step: "read" });
    const log = events.find((e) => e.kind === "log" && (e as { message?: string }).message === "auth") as { fields?: { code: string; message: string } } | undefined;
    expect(log?.fields?.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(JSON.stringify(events)).not.toContain("wrong-pw-0815");
  });
});
