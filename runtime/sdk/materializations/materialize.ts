/**
 * `ctx.materialize(config, { connector, dialect })` in the guest: checks the call, then runs it as a step
 * named `materialize:<targetTable>` whose one bridge operation, `materialize`, carries the validated spec, the
 * connector's host handle and the dialect. The host validates everything again and runs the engine on the
 * connector's own session. Internal to the SDK; the public types are in types.ts and ../materializations.ts.
 */
import { bridgeCall, callSite } from "../bridge";
import { fillSdkError, isGenuineSdkError, type TauSdkError } from "../errors";
import { capString } from "../json";
import { ArrayIsArray, ObjectFreeze, arrayPush } from "../primordials";
import { sqlConnectorCore } from "../sql-connector";
import type { StepTracker } from "../steps";
import type { Step } from "../types";
import type { SqlConnector } from "../sql-connector";
import type { MaterializationConfig } from "./configs";
import { specOf } from "./configs";
import { shown } from "./fields";
import type { Dialect, MaterializationSpec, MaterializeResult, Strategy } from "./spec";
import { DIALECTS } from "./validate";

/**
 * The second argument of `ctx.materialize`: the SQL connector whose database holds the source and the
 * target, and the SQL dialect (default: the connector's own — postgres for postgres, duckdb for
 * duckdb_local and motherduck, mysql, redshift, bigquery, snowflake, clickhouse).
 *
 * @example
 * ```ts
 * await using db = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });
 * const options: MaterializeOptions = { connector: db, dialect: "postgres" };
 * ```
 */
export interface MaterializeOptions {
  connector: SqlConnector<string>;
  dialect?: Dialect;
}

/** Step meta keeps statements up to these sizes (the host stores at most 64 KiB of meta per step). */
const META_STATEMENT_MAX = 4000;
const META_STATEMENTS_TOTAL = 40_000;

function callError(site: TauSdkError, field: string, message: string, hint: string, step: string | null): TauSdkError {
  return fillSdkError(site, "TAU_E_MATERIALIZE_CONFIG", `ctx.materialize: ${message}`, hint, { field, config: "ctx.materialize" }, step);
}

function badAnswer(site: TauSdkError): TauSdkError {
  return fillSdkError(site, "TAU_E_INTERNAL", "The host answered materialize with a value of the wrong shape.", "", {}, null);
}

/** The statements as the step's meta shows them: each capped, and no more than the meta can hold. */
function metaStatements(statements: readonly string[]): { statements: string[]; statementsOmitted: number } {
  const out: string[] = [];
  let total = 0;
  let omitted = 0;
  for (let i = 0; i < statements.length; i++) {
    const text = capString(statements[i]!, META_STATEMENT_MAX);
    if (total + text.length > META_STATEMENTS_TOTAL) {
      omitted = statements.length - i;
      break;
    }
    total += text.length;
    arrayPush(out, text);
  }
  return { statements: out, statementsOmitted: omitted };
}

function readResult(value: unknown, site: TauSdkError): MaterializeResult {
  if (typeof value !== "object" || value === null) throw badAnswer(site);
  const v = value as Record<string, unknown>;
  if (typeof v.strategy !== "string" || typeof v.targetTable !== "string" || typeof v.rowsAffected !== "number" || typeof v.durationMs !== "number") {
    throw badAnswer(site);
  }
  if (!ArrayIsArray(v.statements)) throw badAnswer(site);
  const statements: string[] = [];
  for (let i = 0; i < v.statements.length; i++) {
    const s: unknown = v.statements[i];
    if (typeof s !== "string") throw badAnswer(site);
    arrayPush(statements, s);
  }
  return ObjectFreeze({
    strategy: v.strategy as Strategy,
    targetTable: v.targetTable,
    rowsAffected: v.rowsAffected,
    statements: ObjectFreeze(statements) as string[],
    durationMs: v.durationMs,
  });
}

/** Builds `ctx.materialize` for one run. */
export function createMaterialize(
  steps: StepTracker,
): (config: MaterializationConfig, options: MaterializeOptions) => Promise<MaterializeResult> {
  return async function materialize(config: MaterializationConfig, options: MaterializeOptions): Promise<MaterializeResult> {
    const site = callSite();
    const outer = steps.innermost()?.name ?? null;
    let spec: MaterializationSpec;
    try {
      spec = specOf(config);
    } catch (err) {
      // A getter of the pipeline's own object may throw anything: only the SDK's errors are re-dressed.
      if (!isGenuineSdkError(err)) throw err;
      // Keep the call site's stack (the line of ctx.materialize), with the validation's message.
      throw fillSdkError(site, err.code, err.message, err.hint, err.details, outer);
    }
    if (typeof options !== "object" || options === null) {
      throw callError(site, "options", `the second argument must be { connector, dialect? }, got ${shown(options)}.`, "Pass the connector, e.g. ctx.materialize(config, { connector: db }).", outer);
    }
    if (sqlConnectorCore(options) !== undefined) {
      // The seed's Python signature is materialize(config, connector, dialect): say how it reads here.
      throw callError(site, "options", "the second argument is the connector itself; pass it as an option.", "Write ctx.materialize(config, { connector: db }) (and dialect: \"…\" as an option too).", outer);
    }
    const connector = options.connector;
    const core = sqlConnectorCore(connector);
    if (core === undefined) {
      throw callError(
        site,
        "connector",
        `connector must be a SQL connector made by a factory from "tau/connectors" (postgres, duckdb_local, mysql, …), got ${shown(connector)}.`,
        'Pass the connector the target lives in, e.g. { connector: db } with `await using db = duckdb_local()`.',
        outer,
      );
    }
    const dialect = options.dialect;
    if (dialect !== undefined && dialect !== null) {
      let known = false;
      for (let i = 0; i < DIALECTS.length; i++) if (dialect === DIALECTS[i]) known = true;
      if (!known) {
        let list = "";
        for (let i = 0; i < DIALECTS.length; i++) list += `${i === 0 ? "" : ", "}"${DIALECTS[i]}"`;
        throw callError(site, "dialect", `dialect must be one of ${list}; got ${shown(dialect)}.`, "Omit dialect to use the connector's own.", outer);
      }
    }
    return await steps.run<MaterializeResult>(`materialize:${spec.targetTable}`, async (step: Step) => {
      const handle = await core.handle(site);
      const answer = await bridgeCall("materialize", { handle, spec, dialect: dialect ?? null }, site);
      const result = readResult(answer, site);
      const used = (answer as { dialect?: unknown }).dialect;
      step.rowsOut = result.rowsAffected;
      const shownStatements = metaStatements(result.statements);
      const meta: Record<string, unknown> = {
        strategy: result.strategy,
        targetTable: result.targetTable,
        dialect: typeof used === "string" ? used : (dialect ?? null),
        connector: core.kind,
        rowsAffected: result.rowsAffected,
        durationMs: result.durationMs,
        statements: shownStatements.statements,
      };
      if (shownStatements.statementsOmitted > 0) meta.statementsOmitted = shownStatements.statementsOmitted;
      step.meta = meta;
      return result;
    });
  };
}
