/**
 * What an agent's pipeline file sees of `tau/materializations` at deploy time: the documented uses type-check
 * (every config class, MaterializationType, ctx.materialize on each SQL connector), and the mistakes the
 * declarations can see — an unknown strategy or enum value, merge without uniqueKey, a dialect that does not
 * exist, a misused result — fail the deploy with TAU_E_DEPLOY_TYPECHECK at their line.
 */
import { describe, expect, it } from "vitest";
import { compilePipeline } from "../../sandbox/compile";
import { TauError } from "../../server/contract";
import { builtSdkTypes } from "./sdk-types-fixture";

const HEADER = `import { pipeline } from "tau";
import { duckdb_local, postgres, mysql, bigquery } from "tau/connectors";
import { FullRefreshConfig, IncrementalConfig, PartitionedConfig, SCDType1Config, SCDType2Config, SnapshotConfig,
  MaterializationConfig, MaterializationType, type MaterializeResult, type Dialect } from "tau/materializations";
export default pipeline({ name: "typed_mat" }, async (ctx) => {
`;
/** Line of the first body line in the compiled file (HEADER has 5 lines). */
const BODY_LINE = 6;

const compile = (body: string) =>
  compilePipeline({ source: `${HEADER}${body}\n});\n`, filename: "typed_mat.ts", typecheck: true }, { sdkTypesDir: builtSdkTypes() });

async function typeErrors(body: string): Promise<Array<{ line: number; message: string }>> {
  try {
    await compile(body);
  } catch (err) {
    expect(err).toBeInstanceOf(TauError);
    expect((err as TauError).code).toBe("TAU_E_DEPLOY_TYPECHECK");
    return (err as TauError).details.errors as Array<{ line: number; message: string }>;
  }
  throw new Error("expected the deploy to fail with type errors");
}

describe("tau/materializations at deploy time", () => {
  it("type-checks the seed's configs and ctx.materialize on DuckDB, PostgreSQL, MySQL and BigQuery", async () => {
    const compiled = await compile(`  await using db = duckdb_local();
  await using pg = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });
  await using my = mysql({ host: "127.0.0.1", database: "test", user: "root" });
  await using bq = bigquery({ projectId: "p", dataset: "d", credentials: ctx.secret("BQ") });
  const configs: MaterializationConfig[] = [
    new FullRefreshConfig({ targetTable: "analytics.dim_products", sourceQuery: "SELECT * FROM raw.products", preHook: "DROP INDEX IF EXISTS idx_sku", postHook: ["CREATE INDEX idx_sku ON analytics.dim_products (sku)"] }),
    new IncrementalConfig({ targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders", uniqueKey: "order_id", incrementalColumn: "updated_at", incrementalStrategy: "merge", onSchemaChange: "append_new_columns" }),
    new IncrementalConfig({ targetTable: "analytics.events", sourceQuery: "SELECT * FROM raw.events", incrementalStrategy: "insert_overwrite", partitionBy: "event_date" }),
    new IncrementalConfig({ targetTable: "analytics.logs", sourceQuery: "SELECT * FROM raw.logs", incrementalStrategy: "append" }),
    new PartitionedConfig({ targetTable: "analytics.events", sourceQuery: "SELECT * FROM raw.events", uniqueKey: "event_id", partitionBy: "event_date", partitionType: "date", partitionGranularity: "day", clusterBy: ["user_id", "event_type"], incrementalColumn: "created_at", partitionExpirationDays: 90 }),
    new SCDType1Config({ targetTable: "analytics.dim_products", sourceQuery: "SELECT * FROM raw.products", uniqueKey: "product_id", trackedColumns: ["name", "price", "category"], updatedAtColumn: "updated_at" }),
    new SCDType2Config({ targetTable: "analytics.dim_customers", sourceQuery: "SELECT customer_id, name, tier FROM raw.customers", uniqueKey: "customer_id", trackedColumns: ["name", "tier"], validFromColumn: "valid_from", validToColumn: "valid_to", isCurrentColumn: "is_current", hashColumn: "row_hash", invalidateHardDeletes: true }),
    new SnapshotConfig({ targetTable: "analytics.balance_snapshots", sourceQuery: "SELECT * FROM raw.accounts", snapshotTimestampColumn: "snapshot_at", snapshotIdColumn: "snapshot_id", retainSnapshots: 30 }),
    new MaterializationConfig({ targetTable: "raw.api_logs", sourceQuery: "SELECT * FROM staging.buffer", strategy: MaterializationType.APPEND_ONLY }),
    new MaterializationConfig({ targetTable: "reporting.v_active_users", sourceQuery: "SELECT 1", strategy: "view" }),
  ];
  const dialect: Dialect = "postgres";
  const results: MaterializeResult[] = [];
  results.push(await ctx.materialize(configs[0]!, { connector: pg, dialect }));
  results.push(await ctx.materialize(configs[1]!, { connector: db }));
  results.push(await ctx.materialize(configs[2]!, { connector: my, dialect: "mysql" }));
  results.push(await ctx.materialize(configs[3]!, { connector: bq, dialect: "bigquery" }));
  const n: number = results[0]!.rowsAffected;
  const sql: readonly string[] = results[0]!.statements;
  const keys: readonly string[] | null = (configs[1] as IncrementalConfig).uniqueKey;
  return { n, sql: sql.length, keys, strategy: results[0]!.strategy, ms: results[0]!.durationMs };`);
    expect(compiled.bundle).toContain("__tau_sdk.materializations");
  }, 60_000);

  it("refuses an unknown enum value, merge without uniqueKey, a base config with a keyed strategy and a made-up dialect, at their lines", async () => {
    const errors = await typeErrors(`  await using db = duckdb_local();
  new IncrementalConfig({ targetTable: "t", sourceQuery: "SELECT 1", uniqueKey: "id", incrementalStrategy: "upsert" });
  new IncrementalConfig({ targetTable: "t", sourceQuery: "SELECT 1" });
  new PartitionedConfig({ targetTable: "t", sourceQuery: "SELECT 1", partitionBy: "d", partitionGranularity: "week" });
  new MaterializationConfig({ targetTable: "t", sourceQuery: "SELECT 1", strategy: MaterializationType.INCREMENTAL });
  await ctx.materialize(new FullRefreshConfig({ targetTable: "t", sourceQuery: "SELECT 1" }), { connector: db, dialect: "oracle" });
  const r = await ctx.materialize(new FullRefreshConfig({ targetTable: "t", sourceQuery: "SELECT 1" }), { connector: db });
  const s: string = r.rowsAffected;
  new SnapshotConfig({ targetTable: "t", sourceQuery: "SELECT 1", snapshot_id_column: "sid" });`);
    const lines = [...new Set(errors.map((e) => e.line - BODY_LINE + 1))].sort((a, b) => a - b);
    expect(lines).toEqual([2, 3, 4, 5, 6, 8, 9]);
    const text = errors.map((e) => e.message).join("\n");
    expect(text).toContain('"upsert"');
    expect(text).toContain("uniqueKey");
    expect(text).toContain('"week"');
    expect(text).toContain('"oracle"');
    expect(text).toContain("snapshot_id_column");
  }, 60_000);

  it("refuses a non-SQL connector for ctx.materialize", async () => {
    const errors = await typeErrors(`  const cfg = new FullRefreshConfig({ targetTable: "t", sourceQuery: "SELECT 1" });
  await ctx.materialize(cfg, { connector: { kind: "x" } });`);
    expect(errors[0]!.line - BODY_LINE + 1).toBe(2);
  }, 60_000);
});
