/**
 * `tau`: the module a pipeline file imports.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local } from "tau/connectors";
 *
 * export default pipeline({ name: "orders_daily", schedule: "0 6 * * *" }, async (ctx) => {
 *   await using db = duckdb_local();
 *   const rows = await ctx.step("extract", async (step) => {
 *     const data = await db.extract("SELECT * FROM raw_orders WHERE day = ?", [ctx.params.day ?? "2026-01-31"]);
 *     step.rowsOut = data.length;
 *     return data;
 *   });
 *   await ctx.step("load", async (step) => {
 *     step.rowsIn = rows.length;
 *     await db.load(rows, { table: "staging_orders", mode: "replace" });
 *   });
 *   return { loaded: rows.length };
 * });
 * ```
 */
export { pipeline } from "./pipeline";
export { TauSdkError } from "./errors";
export type { TauErrorCode } from "./errors";
export type { JsonValue } from "./json";
export type {
  LogFields,
  LogFn,
  Params,
  PipelineContext,
  PipelineDefinition,
  PipelineFn,
  PipelineMeta,
  Step,
} from "./types";
