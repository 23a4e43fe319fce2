/**
 * Runs a plan on one session: transaction boundaries, locks, hooks, staging, checks, row counts, and the
 * conversion of failures into Tau errors. Every statement sent is recorded, in order, for `tau inspect`.
 */
import { TauError, isTauError } from "../../server/contract";
import type { MaterializationSpec, SqlSession } from "../sdk/materializations/spec";
import type { SqlDialect } from "./dialect";
import type { RelationInfo, Step } from "./plan";
import { displayName, type Relation } from "./relation";

const STATEMENT_DETAIL_CHARS = 2000;
const CHECK_ROWS_SHOWN = 5;

function plain(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== "object") return value;
  return String(value);
}

function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)]));
}

export class StatementRunner {
  readonly statements: string[] = [];
  rowsAffected = 0;
  private dmlOpen = false;
  private lastSql = "";

  constructor(
    private readonly session: SqlSession,
    private readonly dialect: SqlDialect,
  ) {}

  get lastStatement(): string {
    return this.lastSql;
  }

  async raw(sql: string): Promise<{ rows: Record<string, unknown>[]; rowsAffected: number }> {
    this.statements.push(sql);
    this.lastSql = sql;
    return this.session.execute(sql);
  }

  /**
   * Engines whose DDL commits implicitly get their DML grouped: BEGIN before the first DML after DDL, COMMIT
   * before the next DDL, so each group of updates/inserts (and the checks among them) is atomic.
   */
  async step(s: Step): Promise<void> {
    const t = this.dialect.transaction;
    if (!this.dialect.transactionalDdl && t) {
      if (s.kind === "ddl" && this.dmlOpen) await this.commitDml();
      if (s.kind === "dml" && !this.dmlOpen) {
        await this.raw(t.begin);
        this.dmlOpen = true;
      }
    }
    let res: { rows: Record<string, unknown>[]; rowsAffected: number };
    try {
      res = await this.raw(s.sql);
    } catch (err) {
      if (!s.failsAs) throw err;
      const cause = err instanceof Error ? err.message : String(err);
      throw new TauError(s.failsAs.code, s.failsAs.message, { [s.failsAs.detailsKey]: { statement: s.sql, cause: cause.slice(0, 500) } });
    }
    if (s.counts) this.rowsAffected += Number(res.rowsAffected) || 0;
    if (s.countQuery) {
      const first = res.rows[0];
      this.rowsAffected += first ? Number(Object.values(first)[0]) || 0 : 0;
    }
    if (s.check && res.rows.length > 0) {
      throw new TauError(s.check.code, s.check.message, { [s.check.detailsKey]: res.rows.slice(0, CHECK_ROWS_SHOWN).map(plainRow) });
    }
  }

  async commitDml(): Promise<void> {
    if (!this.dmlOpen) return;
    this.dmlOpen = false;
    await this.raw(this.dialect.transaction!.commit);
  }

  /** Rolls back the open DML group (non-transactional-DDL engines); errors here must not hide the first one. */
  async rollbackDml(): Promise<void> {
    if (!this.dmlOpen) return;
    this.dmlOpen = false;
    await this.raw(this.dialect.transaction!.rollback).catch(() => undefined);
  }

  async describe(relation: Relation): Promise<RelationInfo | null> {
    const res = await this.raw(this.dialect.describe(relation));
    return this.dialect.parseDescribe(res.rows);
  }
}

export interface FailureContext {
  spec: MaterializationSpec;
  dialect: SqlDialect;
  target: Relation;
  statement: string;
  /** Whether the engine rolled the whole run back (transactional DDL). */
  rolledBack: boolean;
}

/** Driver errors and connector errors become one Tau error naming the statement; Tau's own pass through. */
export function materializeError(err: unknown, ctx: FailureContext): TauError {
  if (isTauError(err) && err.code.startsWith("TAU_E_MATERIALIZE_")) return err;
  const where = {
    strategy: ctx.spec.strategy,
    targetTable: displayName(ctx.target),
    dialect: ctx.dialect.name,
    statement: ctx.statement.slice(0, STATEMENT_DETAIL_CHARS),
    targetUnchanged: ctx.rolledBack,
  };
  const outcome = ctx.rolledBack
    ? `The run's transaction was rolled back: ${where.targetTable} is as it was.`
    : `Statements before details.statement took effect (${ctx.dialect.name} commits DDL implicitly); rerunning is safe, every strategy is idempotent.`;
  if (isTauError(err)) {
    return new TauError(err.code, err.message, { ...err.details, materialize: where }, `${err.hint} ${outcome}`);
  }
  const e = err as { message?: unknown; code?: unknown; sqlState?: unknown; errno?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  return new TauError(
    "TAU_E_MATERIALIZE_FAILED",
    `${ctx.spec.strategy} of ${where.targetTable} failed: ${message.slice(0, 1000)}`,
    { ...where, cause: { code: typeof e?.code === "string" || typeof e?.code === "number" ? e.code : null, errno: typeof e?.errno === "number" ? e.errno : null } },
    `Read the database's message and details.statement. ${outcome}`,
  );
}
