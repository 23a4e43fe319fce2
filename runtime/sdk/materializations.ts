/**
 * `tau/materializations`: build tables from SQL on a connector's database with a named strategy, run on the
 * host by Tau's materialization engine (dbt's semantics, one SQL dialect per warehouse). Build a config, then
 * pass it to `ctx.materialize(config, { connector })`; the step `materialize:<targetTable>` records the SQL
 * that ran (`tau inspect NAME --last-run`).
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local } from "tau/connectors";
 * import { FullRefreshConfig, IncrementalConfig } from "tau/materializations";
 *
 * export default pipeline({ name: "warehouse_etl", schedule: "0 4 * * *" }, async (ctx) => {
 *   await using db = duckdb_local();
 *   await ctx.materialize(new FullRefreshConfig({ targetTable: "dim_products", sourceQuery: "SELECT * FROM raw_products" }), { connector: db });
 *   const r = await ctx.materialize(new IncrementalConfig({ targetTable: "fct_orders", sourceQuery: "SELECT * FROM raw_orders",
 *     uniqueKey: "order_id", incrementalColumn: "updated_at" }), { connector: db });
 *   return { orders: r.rowsAffected };
 * });
 * ```
 */
export {
  FullRefreshConfig,
  IncrementalConfig,
  MaterializationConfig,
  PartitionedConfig,
  SCDType1Config,
  SCDType2Config,
  SnapshotConfig,
} from "./materializations/configs";
export {
  MaterializationType,
  type ColumnList,
  type CommonConfigOptions,
  type FullRefreshConfigOptions,
  type IncrementalConfigOptions,
  type MaterializationConfigOptions,
  type PartitionedConfigOptions,
  type SCDType1ConfigOptions,
  type SCDType2ConfigOptions,
  type SnapshotConfigOptions,
} from "./materializations/options";
export type { MaterializeOptions } from "./materializations/materialize";
export type {
  Dialect,
  IncrementalStrategy,
  MaterializeResult,
  OnSchemaChange,
  PartitionGranularity,
  PartitionType,
  Strategy,
} from "./materializations/spec";
