/**
 * bigquery and snowflake through the real sandbox (a private build of the executor, see streams-build.ts):
 * the bundled executor loads each SDK lazily and reaches the loopback servers of test/runtime/fakes/; the
 * guest factories refuse bad options with the pipeline's line. (clickhouse: clickhouse-pipeline.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorPool } from "../../sandbox/pool";
import { FakeBigQuery } from "../runtime/fakes/bigquery-server";
import { FakeSnowflake } from "../runtime/fakes/snowflake-server";
import { pipelineFile, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

function warehousePipeline(body: string): string {
  return pipelineFile(body, { prelude: `import { bigquery, clickhouse, snowflake } from "tau/connectors";` });
}

describe("bigquery and snowflake pipelines in the sandbox", () => {
  const data = tempDir("tau-warehouses-e2e-");
  let bq: FakeBigQuery;
  let sf: FakeSnowflake;
  let built: PrivateBuild;
  let pool: ExecutorPool;

  beforeAll(async () => {
    bq = await FakeBigQuery.start({ token: "bq-token-secret", datasets: ["sales"] });
    sf = await FakeSnowflake.start({ user: "ETL", password: "sf-secret-pw" });
    built = await buildPrivateExecutor();
    pool = await startPrivatePool(built, 1, {
      TAU_TEST_BQ_URL: bq.url,
      TAU_TEST_BQ_TOKEN: "bq-token-secret",
      TAU_TEST_SF_URL: sf.url,
      TAU_TEST_SF_PASSWORD: "sf-secret-pw",
    });
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    built?.remove();
    await bq?.stop();
    await sf?.stop();
    data.remove();
  });

  it("a pipeline loads into BigQuery, upserts, streams pages and extracts", async () => {
    const source = warehousePipeline(`
  await using db = bigquery({ projectId: "proj", dataset: "sales", accessToken: ctx.secret("TAU_TEST_BQ_TOKEN"), apiEndpoint: ctx.secret("TAU_TEST_BQ_URL") });
  const rows = [];
  for (let i = 1; i <= 1200; i++) rows.push({ id: i, day: "2024-01-0" + (1 + (i % 9)), amount: i / 2 });
  const loaded = await db.load(rows, { table: "orders" });
  const upserted = await db.load([{ id: 1, day: "2024-02-01", amount: 100 }], { table: "orders", mode: "upsert", mergeKey: "id" });
  let pages = 0, streamed = 0;
  for await (const batch of db.stream("SELECT id FROM sales.orders ORDER BY id", [], { batchSize: 500 })) { pages++; streamed += batch.length; }
  const [first] = await db.extract("SELECT * FROM sales.orders WHERE id = ?", [1]);
  return { loaded, upserted, pages, streamed, first };`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: { loaded: 1200, upserted: 1, pages: 3, streamed: 1200, first: { id: 1, day: "2024-02-01", amount: 100 } },
    });
  });

  it("a pipeline loads into Snowflake, replaces, streams and extracts", async () => {
    const source = warehousePipeline(`
  await using db = snowflake({ account: "acme", username: "ETL", password: ctx.secret("TAU_TEST_SF_PASSWORD"), accessUrl: ctx.secret("TAU_TEST_SF_URL"), loginTimeoutSec: 5 });
  const rows = [];
  for (let i = 1; i <= 1200; i++) rows.push({ id: i, label: "r" + i, doc: { n: i } });
  const loaded = await db.load(rows, { table: "events" });
  const replaced = await db.load(rows.slice(0, 10), { table: "events", mode: "replace" });
  let streamed = 0;
  for await (const batch of db.stream("SELECT id FROM events", [], { batchSize: 4 })) streamed += batch.length;
  const [row] = await db.extract("SELECT id, label, doc FROM events WHERE id = ?", [3]);
  return { loaded, replaced, streamed, row };`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: { loaded: 1200, replaced: 10, streamed: 10, row: { ID: 3, LABEL: "r3", DOC: { n: 3 } } },
    });
  });

  it("the factories refuse bad options at the pipeline's line", async () => {
    const source = warehousePipeline(`
  const codes = [];
  for (const make of [() => clickhouse({ url: 5 }), () => bigquery({ dataset: "x" }), () => snowflake({ account: "a", username: "u", passwrd: "p" })]) {
    try { make(); codes.push("none"); } catch (err) { codes.push(err.code + ": " + err.message); }
  }
  return codes;`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: [
        "TAU_E_CONNECTOR_ARGS_INVALID: clickhouse: url must be a non-empty string.",
        "TAU_E_CONNECTOR_ARGS_INVALID: bigquery: needs the option 'projectId'.",
        expect.stringMatching(/^TAU_E_CONNECTOR_ARGS_INVALID: snowflake: unknown option 'passwrd' \(options: account, username, password, /),
      ],
    });
  });
});
