/**
 * What a strategy planner produces: an ordered list of steps. The runner executes them, groups DML into
 * transactions where the engine has no transactional DDL, and turns failed checks into Tau errors.
 */
import type { ErrorCode } from "../../server/contract";
import type { MaterializationSpec } from "../sdk/materializations/spec";
import type { SqlDialect } from "./dialect";
import type { Relation } from "./relation";

export interface Column {
  readonly name: string;
  /** The type as the engine's catalog spells it, usable in ALTER TABLE … ADD COLUMN. */
  readonly type: string;
}

export interface RelationInfo {
  readonly kind: "table" | "view";
  readonly columns: readonly Column[];
}

/** A query whose rows, when there are any, mean the materialization must stop (nothing else is run). */
export interface StepCheck {
  readonly code: ErrorCode;
  readonly message: string;
  /** Key for the offending rows in the error's details (e.g. `duplicates`). */
  readonly detailsKey: string;
}

export interface Step {
  readonly sql: string;
  /** ddl: schema change (commits implicitly on MySQL, Snowflake, BigQuery, ClickHouse); dml; query: reads. */
  readonly kind: "ddl" | "dml" | "query";
  /** Add the statement's changed-row count to the result's rowsAffected. */
  readonly counts?: boolean;
  /** A `SELECT COUNT(*) AS n`: add n to rowsAffected (for CREATE TABLE … AS, whose count drivers differ on). */
  readonly countQuery?: boolean;
  readonly check?: StepCheck;
  /** When the statement itself fails, the run fails with this code (e.g. a lock wait that timed out). */
  readonly failsAs?: StepCheck;
}

export interface PlanInput<S extends MaterializationSpec = MaterializationSpec> {
  readonly spec: S;
  readonly dialect: SqlDialect;
  readonly target: Relation;
  /** null: the target does not exist yet. */
  readonly targetInfo: RelationInfo | null;
  /** The staged source (null for strategies that build without staging). */
  readonly staging: Relation | null;
  readonly stagingColumns: readonly Column[];
  readonly now: Date;
  readonly runId: string;
}

export interface Planner<S extends MaterializationSpec = MaterializationSpec> {
  /** The SELECT whose rows are staged before planning; null: this strategy reads the source directly. */
  stagingQuery(input: Omit<PlanInput<S>, "staging" | "stagingColumns">): string | null;
  plan(input: PlanInput<S>): Step[];
}

export const ddl = (sql: string): Step => ({ sql, kind: "ddl" });
export const dml = (sql: string, counts = true): Step => ({ sql, kind: "dml", counts });
export const countRows = (sql: string): Step => ({ sql, kind: "query", countQuery: true });
export const check = (sql: string, c: StepCheck): Step => ({ sql, kind: "query", check: c });
