/**
 * `ctx.materialize` end to end: pipeline files importing `tau/materializations`, compiled by the deploy
 * compiler and run in a real executor process (a private build of the working tree, streams-build.ts), with
 * the real engine materializing into DuckDB (a file in the tenant's data folder) and PostgreSQL
 * (127.0.0.1:5432). Each strategy runs twice on the same source and must leave the same target.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorPool } from "../../sandbox/pool";
import type { RunOutcome, SandboxEvent } from "../../sandbox/types";
import { runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

const SCHEMA = `matsdk_${process.pid}`;
const DSN = "postgres://postgres@127.0.0.1:5432/test";
const TOKEN = "tok-matsdk-Quebec-5521";

function matPipeline(body: string, imports = "FullRefreshConfig, IncrementalConfig, MaterializationConfig, MaterializationType, SCDType2Config, SnapshotConfig"): string {
  return [
    `import { pipeline } from "tau";`,
    `import { duckdb_local, postgres, http_api } from "tau/connectors";`,
    `import { ${imports} } from "tau/materializations";`,
    `export default pipeline({ name: "mat_test" }, async (ctx: any) => {`,
    body,
    `});`,
    ``,
  ].join("\n");
}

function resultOf(outcome: RunOutcome): any {
  if (outcome.status !== "succeeded") throw new Error(`run ${outcome.status}: ${JSON.stringify((outcome as { error?: unknown }).error)}`);
  return (outcome as { result: unknown }).result;
}

function materializeSteps(events: SandboxEvent[]): Extract<SandboxEvent, { kind: "step.finished" }>[] {
  return events.filter((e): e is Extract<SandboxEvent, { kind: "step.finished" }> => e.kind === "step.finished" && e.step.startsWith("materialize:"));
}

describe("ctx.materialize in the sandbox", () => {
  const data = tempDir("tau-matsdk-e2e-");
  let admin: Client;
  let built: PrivateBuild;
  let pool: ExecutorPool;

  beforeAll(async () => {
    admin = new Client({ host: "127.0.0.1", database: "test", user: "postgres" });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    built = await buildPrivateExecutor();
    pool = await startPrivatePool(built, 1, { TAU_TEST_MAT_DSN: DSN, TAU_TEST_MAT_TOKEN: TOKEN });
  }, 90_000);
  afterAll(async () => {
    await pool?.close();
    built?.remove();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.end();
    data.remove();
  });

  // Round 1: orders 1, 2. Round 2: order 2 changed, order 3 new, order 1 gone from the source.
  const duckdbBody = `
  await using db = duckdb_local("matsdk.duckdb");
  const round = ctx.params.round;
  await db.execute(round === 1
    ? "CREATE OR REPLACE TABLE raw_orders AS SELECT * FROM (VALUES (1, 'a', 10, TIMESTAMP '2024-01-01 00:00:00'), (2, 'b', 20, TIMESTAMP '2024-01-02 00:00:00')) t(id, name, amount, updated_at)"
    : "CREATE OR REPLACE TABLE raw_orders AS SELECT * FROM (VALUES (2, 'b2', 25, TIMESTAMP '2024-01-03 00:00:00'), (3, 'c', 30, TIMESTAMP '2024-01-04 00:00:00')) t(id, name, amount, updated_at)");
  const results = [];
  results.push(await ctx.materialize(new FullRefreshConfig({ targetTable: "dim_orders", sourceQuery: "SELECT id, name, amount FROM raw_orders" }), { connector: db }));
  results.push(await ctx.materialize(new IncrementalConfig({ targetTable: "fct_orders", sourceQuery: "SELECT * FROM raw_orders",
    uniqueKey: "id", incrementalColumn: "updated_at" }), { connector: db, dialect: "duckdb" }));
  results.push(await ctx.materialize(new MaterializationConfig({ targetTable: "v_big_orders", sourceQuery: "SELECT id FROM raw_orders WHERE amount > 15;",
    strategy: MaterializationType.VIEW }), { connector: db }));
  const q = async (sql: string) => (await db.extract(sql)).map((r: any) => Object.values(r).join("|"));
  return {
    results: results.map((r) => ({ strategy: r.strategy, targetTable: r.targetTable, rowsAffected: r.rowsAffected, statements: r.statements.length > 0,
      durationOk: typeof r.durationMs === "number" && r.durationMs >= 0, frozen: Object.isFrozen(r) })),
    dim: await q("SELECT id, name, amount FROM dim_orders ORDER BY id"),
    fct: await q("SELECT id, name, amount FROM fct_orders ORDER BY id"),
    view: await q("SELECT id FROM v_big_orders ORDER BY id"),
  };`;

  it("materializes full refresh, incremental merge and a view into DuckDB; a second run on the same source leaves the same tables", async () => {
    const first = await runSource(pool, matPipeline(duckdbBody), { dataDir: data.path, params: { round: 1 } });
    expect(resultOf(first.outcome)).toMatchObject({
      results: [
        { strategy: "full_refresh", targetTable: "dim_orders", rowsAffected: 2, statements: true, durationOk: true, frozen: true },
        { strategy: "incremental", targetTable: "fct_orders", rowsAffected: 2, statements: true, durationOk: true, frozen: true },
        { strategy: "view", targetTable: "v_big_orders", statements: true, durationOk: true, frozen: true },
      ],
      dim: ["1|a|10", "2|b|20"],
      fct: ["1|a|10", "2|b|20"],
      view: ["2"],
    });
    const second = await runSource(pool, matPipeline(duckdbBody), { dataDir: data.path, params: { round: 2 } });
    const expected = { dim: ["2|b2|25", "3|c|30"], fct: ["1|a|10", "2|b2|25", "3|c|30"], view: ["2", "3"] };
    expect(resultOf(second.outcome)).toMatchObject(expected);
    const again = await runSource(pool, matPipeline(duckdbBody), { dataDir: data.path, params: { round: 2 } });
    expect(resultOf(again.outcome)).toMatchObject(expected);

    // Each materialization is a step named after its target, with rowsOut and the SQL it ran in its meta.
    const steps = materializeSteps(second.events);
    expect(steps.map((s) => [s.step, s.status])).toEqual([
      ["materialize:dim_orders", "succeeded"],
      ["materialize:fct_orders", "succeeded"],
      ["materialize:v_big_orders", "succeeded"],
    ]);
    const fct = steps[1]!;
    expect(fct.rowsOut).toBe(resultOf(second.outcome).results[1].rowsAffected);
    expect(fct.meta).toMatchObject({ strategy: "incremental", targetTable: "fct_orders", dialect: "duckdb", connector: "duckdb_local" });
    const statements = fct.meta.statements as string[];
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.join("\n")).toContain("fct_orders");
    expect(statements.join("\n")).toContain("raw_orders");
  });

  it("materializes into PostgreSQL: SCD type 2 keeps history and closes hard deletes; snapshot and incremental run twice idempotently", async () => {
    const body = (round: number): string => `
  const S = ${JSON.stringify(SCHEMA)};
  await using db = postgres({ dsn: ctx.secret("TAU_TEST_MAT_DSN") });
  await db.execute("DROP TABLE IF EXISTS " + S + ".raw_customers");
  await db.execute("CREATE TABLE " + S + ".raw_customers (customer_id int, name text, tier text)");
  await db.load(${round === 1 ? `[{ customer_id: 1, name: "Ada", tier: "gold" }, { customer_id: 2, name: "Bob", tier: "silver" }]` : `[{ customer_id: 1, name: "Ada", tier: "platinum" }, { customer_id: 3, name: "Cy", tier: null }]`},
    { table: S + ".raw_customers" });
  const scd = await ctx.materialize(new SCDType2Config({ targetTable: S + ".dim_customers", sourceQuery: "SELECT customer_id, name, tier FROM " + S + ".raw_customers",
    uniqueKey: "customer_id", trackedColumns: ["name", "tier"], invalidateHardDeletes: true }), { connector: db, dialect: "postgres" });
  const inc = await ctx.materialize(new IncrementalConfig({ targetTable: S + ".customers", sourceQuery: "SELECT * FROM " + S + ".raw_customers",
    uniqueKey: ["customer_id"], incrementalStrategy: "delete+insert" }), { connector: db });
  return { scd: scd.rowsAffected, inc: inc.rowsAffected, strategies: [scd.strategy, inc.strategy] };`;
    const first = await runSource(pool, matPipeline(body(1)), { dataDir: data.path });
    expect(resultOf(first.outcome).strategies).toEqual(["scd_type_2", "incremental"]);
    const second = await runSource(pool, matPipeline(body(2)), { dataDir: data.path });
    expect(resultOf(second.outcome).strategies).toEqual(["scd_type_2", "incremental"]);
    const history = async (): Promise<string[]> =>
      (
        await admin.query(
          `SELECT customer_id, name, coalesce(tier, '∅') AS tier, is_current, valid_to IS NULL AS open FROM ${SCHEMA}.dim_customers ORDER BY customer_id, valid_from, is_current`,
        )
      ).rows.map((r) => `${r.customer_id}|${r.name}|${r.tier}|${r.is_current}|${r.open}`);
    const expectedHistory = ["1|Ada|gold|false|false", "1|Ada|platinum|true|true", "2|Bob|silver|false|false", "3|Cy|∅|true|true"];
    expect(await history()).toEqual(expectedHistory);
    const customers = async (): Promise<string[]> =>
      (await admin.query(`SELECT customer_id, name FROM ${SCHEMA}.customers ORDER BY customer_id`)).rows.map((r) => `${r.customer_id}|${r.name}`);
    expect(await customers()).toEqual(["1|Ada", "2|Bob", "3|Cy"]);

    // The same source again: nothing changes.
    const third = await runSource(pool, matPipeline(body(2)), { dataDir: data.path });
    expect(third.outcome.status).toBe("succeeded");
    expect(await history()).toEqual(expectedHistory);
    expect(await customers()).toEqual(["1|Ada", "2|Bob", "3|Cy"]);
    const scdStep = materializeSteps(second.events).find((s) => s.step === `materialize:${SCHEMA}.dim_customers`)!;
    expect(scdStep.meta).toMatchObject({ strategy: "scd_type_2", dialect: "postgres", connector: "postgres" });
    expect((scdStep.meta.statements as string[]).join("\n")).toContain("dim_customers");
    expect(JSON.stringify(second.events)).not.toContain(DSN);
  });

  it("a config error fails the run with TAU_E_MATERIALIZE_CONFIG at the line that built the config", async () => {
    const source = matPipeline(`
  await using db = duckdb_local("matsdk.duckdb");
  const cfg = new IncrementalConfig({ targetTable: "fct_x", sourceQuery: "SELECT 1 AS id" } as any);
  await ctx.materialize(cfg, { connector: db });`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path, filename: "pipelines/mat.ts" });
    expect(outcome.status).toBe("failed");
    const error = (outcome as unknown as { error: Record<string, unknown> }).error;
    expect(error).toMatchObject({ code: "TAU_E_MATERIALIZE_CONFIG", line: 7, details: { field: "uniqueKey", config: "IncrementalConfig" } });
    expect(String(error.message)).toContain('uniqueKey is required for incrementalStrategy "merge"');
    expect(String(error.hint)).toContain("uniqueKey");
  });

  it("a dialect the connector does not speak, a non-SQL connector and a SQL error are refused with codes, in the step", async () => {
    const source = matPipeline(`
  await using db = duckdb_local("matsdk.duckdb");
  const api = http_api({ baseUrl: "http://127.0.0.1:9" });
  const cfg = new FullRefreshConfig({ targetTable: "t_err", sourceQuery: "SELECT 1 AS id" });
  const codes: Record<string, unknown> = {};
  try { await ctx.materialize(cfg, { connector: db, dialect: "postgres" }); } catch (err: any) { codes.dialect = [err.code, err.details.field, err.step]; }
  try { await ctx.materialize(cfg, { connector: api }); } catch (err: any) { codes.connector = [err.code, err.details.field]; }
  try { await ctx.materialize(cfg, { connector: db, dialect: "oracle" }); } catch (err: any) { codes.unknownDialect = [err.code, err.details.field]; }
  try {
    await ctx.materialize(new FullRefreshConfig({ targetTable: "t_err", sourceQuery: "SELECT * FROM no_such_table_matsdk" }), { connector: db });
  } catch (err: any) { codes.sql = [err.code.startsWith("TAU_E_"), err.step]; }
  const ok = await ctx.materialize(cfg, { connector: db });
  return { codes, ok: ok.rowsAffected };`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(resultOf(outcome)).toEqual({
      codes: {
        dialect: ["TAU_E_MATERIALIZE_CONFIG", "dialect", "materialize:t_err"],
        connector: ["TAU_E_MATERIALIZE_CONFIG", "connector"],
        unknownDialect: ["TAU_E_MATERIALIZE_CONFIG", "dialect"],
        sql: [true, "materialize:t_err"],
      },
      ok: 1,
    });
    expect(materializeSteps(events).map((s) => s.status)).toEqual(["failed", "failed", "succeeded"]);
  });

  it("secret values are scrubbed from the statements the pipeline gets back and from the step's meta", async () => {
    const source = matPipeline(`
  ctx.secret("TAU_TEST_MAT_TOKEN");
  await using db = duckdb_local("matsdk.duckdb");
  const r = await ctx.materialize(new FullRefreshConfig({ targetTable: "t_tokens", sourceQuery: "SELECT '${TOKEN}' AS token" }), { connector: db });
  const [row] = await db.extract("SELECT token FROM t_tokens");
  return { leaked: r.statements.some((s: string) => s.includes("${TOKEN}")), scrubbed: r.statements.some((s: string) => s.includes("[secret:TAU_TEST_MAT_TOKEN]")), stored: row.token.length };`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(resultOf(outcome)).toEqual({ leaked: false, scrubbed: true, stored: TOKEN.length });
    expect(JSON.stringify(materializeSteps(events))).not.toContain(TOKEN);
  });

  it("two materializations started together on one connector run one after the other, each in its own transaction", async () => {
    const source = matPipeline(`
  await using db = duckdb_local("matsdk.duckdb");
  const a = new FullRefreshConfig({ targetTable: "par_a", sourceQuery: "SELECT range AS id FROM range(1000)" });
  const b = new IncrementalConfig({ targetTable: "par_b", sourceQuery: "SELECT range AS id FROM range(500)", uniqueKey: "id" });
  const [ra, rb] = await Promise.all([ctx.materialize(a, { connector: db }), ctx.materialize(b, { connector: db })]);
  const [{ n }] = await db.extract("SELECT (SELECT count(*) FROM par_a) + (SELECT count(*) FROM par_b) AS n");
  return { a: ra.rowsAffected, b: rb.rowsAffected, n: Number(n) };`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(resultOf(outcome)).toEqual({ a: 1000, b: 500, n: 1500 });
    expect(materializeSteps(events).map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
  });

  it("another call on the connector waits while a materialization holds it, instead of landing inside its transaction", async () => {
    const source = matPipeline(`
  const S = ${JSON.stringify(SCHEMA)};
  await using db = postgres({ dsn: ctx.secret("TAU_TEST_MAT_DSN") });
  await db.execute("CREATE TABLE IF NOT EXISTS " + S + ".gate_src AS SELECT g AS id FROM generate_series(1, 50000) g");
  const cfg = new FullRefreshConfig({ targetTable: S + ".gate_t", sourceQuery: "SELECT id, md5(id::text) AS h FROM " + S + ".gate_src" });
  const [m, seen] = await Promise.all([
    ctx.materialize(cfg, { connector: db }),
    db.extract("SELECT count(*)::int AS n FROM " + S + ".gate_t"),
  ]);
  return { rows: m.rowsAffected, seen: seen[0].n };`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path });
    // The extract was issued while the materialization was under way, yet sees the finished table.
    expect(resultOf(outcome)).toEqual({ rows: 50000, seen: 50000 });
  });
});
