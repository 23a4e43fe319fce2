/**
 * The host-side materialization engine: `materialize(spec, session, {now, runId})` builds `spec.targetTable`
 * from `spec.sourceQuery` with the spec's strategy, in the session's SQL dialect. The spec arrives validated
 * (`validateSpec`); identifiers are still quoted by the dialect, never interpolated raw.
 *
 * ```ts
 * const result = await materialize(
 *   { strategy: "incremental", targetTable: "analytics.orders", sourceQuery: "SELECT * FROM staging.orders",
 *     incrementalStrategy: "merge", uniqueKey: ["id"], incrementalColumn: "updated_at",
 *     onSchemaChange: "append_new_columns", partitionBy: null, preHook: [], postHook: [] },
 *   session, { now: new Date(), runId });
 * // → { strategy, targetTable, rowsAffected, statements, durationMs }
 * ```
 *
 * Semantics per strategy and dialect: docs/materializations.md.
 */
import { performance } from "node:perf_hooks";
import { TauError } from "../../server/contract";
import type { MaterializationSpec, MaterializeResult, SqlSession } from "../sdk/materializations/spec";
import { dialectFor } from "./dialects";
import { TargetLocks } from "./locks";
import type { Column, Planner, RelationInfo } from "./plan";
import { displayName, helperRelation, parseTarget, type Relation } from "./relation";
import { materializeError, StatementRunner } from "./runner";
import { PLANNERS } from "./strategies";

export interface MaterializeOptions {
  /** The run's time: stamps validFrom/validTo, snapshot times, updatedAt; partition expiry counts from it. */
  now: Date;
  runId: string;
  /** In-process lock registry (default: one per process). */
  locks?: TargetLocks;
  /**
   * How long a run waits for another run on the same target, where the database has the lock (PostgreSQL,
   * MySQL), before failing with TAU_E_MATERIALIZE_LOCKED. Default 600.
   */
  lockWaitSeconds?: number;
}

export const DEFAULT_LOCK_WAIT_SECONDS = 600;

const PROCESS_LOCKS = new TargetLocks();

export async function materialize(spec: MaterializationSpec, session: SqlSession, opts: MaterializeOptions): Promise<MaterializeResult> {
  const started = performance.now();
  const dialect = dialectFor(session.dialect);
  if (!dialect) {
    throw new TauError("TAU_E_MATERIALIZE_CONFIG", `Unknown dialect '${String(session.dialect)}'.`, { field: "dialect", value: String(session.dialect) });
  }
  const planner = (PLANNERS as Record<string, Planner<never> | undefined>)[spec.strategy] as Planner<MaterializationSpec> | undefined;
  if (!planner) {
    throw new TauError("TAU_E_MATERIALIZE_CONFIG", `Unknown strategy '${String(spec.strategy)}'.`, { field: "strategy", value: String(spec.strategy) });
  }
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime())) {
    throw new TauError("TAU_E_MATERIALIZE_CONFIG", "materialize needs the run's time as a valid Date (opts.now).", { field: "now" });
  }
  const target = parseTarget(spec.targetTable);
  const run = new StatementRunner(session, dialect);
  const release = await (opts.locks ?? PROCESS_LOCKS).acquire(`${dialect.name}:${displayName(target)}`);
  const txn = dialect.transactionalDdl ? dialect.transaction : null;
  let staging: Relation | null = null;
  let releaseSteps: { sql: string }[] = [];
  try {
    if (txn) await run.raw(txn.begin);
    let targetInfo: RelationInfo | null = dialect.lockNeedsTarget ? await run.describe(target) : null;
    if (!dialect.lockNeedsTarget || targetInfo) {
      const lock = dialect.lock(target, opts.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS);
      releaseSteps = lock.release;
      for (const s of lock.acquire) await run.step(s);
    }
    for (const hook of spec.preHook ?? []) await run.step({ sql: hook, kind: "ddl" });
    targetInfo = await run.describe(target);

    const base = { spec, dialect, target, targetInfo, now: opts.now, runId: opts.runId };
    const stagingQuery = planner.stagingQuery(base);
    let stagingColumns: readonly Column[] = [];
    if (stagingQuery !== null) {
      staging = helperRelation(target, "stage", opts.runId);
      await run.step({ sql: dialect.dropTable(staging), kind: "ddl" });
      await run.step({ sql: dialect.createTableAs(staging, stagingQuery), kind: "ddl" });
      stagingColumns = (await run.describe(staging))?.columns ?? [];
    }
    for (const s of planner.plan({ ...base, staging, stagingColumns })) await run.step(s);
    if (staging) await run.step({ sql: dialect.dropTable(staging), kind: "ddl" });
    staging = null;
    for (const hook of spec.postHook ?? []) await run.step({ sql: hook, kind: "ddl" });
    await run.commitDml();
    if (txn) await run.raw(txn.commit);
  } catch (err) {
    const statement = run.lastStatement;
    if (txn) await run.raw(txn.rollback).catch(() => undefined);
    else {
      await run.rollbackDml();
      if (staging) await run.raw(dialect.dropTable(staging)).catch(() => undefined);
    }
    throw materializeError(err, { spec, dialect, target, statement, rolledBack: txn !== null });
  } finally {
    for (const s of releaseSteps) await run.raw(s.sql).catch(() => undefined);
    release();
  }
  return {
    strategy: spec.strategy,
    targetTable: spec.targetTable,
    rowsAffected: run.rowsAffected,
    statements: run.statements,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
  };
}

export { TargetLocks } from "./locks";
export { dialectFor } from "./dialects";
export type { SqlDialect } from "./dialect";
export type { Column, RelationInfo, Step } from "./plan";
export { parseTarget, type Relation } from "./relation";
