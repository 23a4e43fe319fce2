/**
 * A `SqlSession` (the materialization engine's view of a database, runtime/sdk/materializations/spec.ts) over
 * an open SQL host connector: postgres, redshift, mysql, duckdb_local, motherduck, and the warehouses
 * (bigquery, snowflake, clickhouse) through their `call` dispatch. Every statement runs on the connector's
 * own connection — the one the pipeline's other calls use, so temporary tables and session settings are
 * shared — one at a time, in order, for the whole materialization. (The bridge keeps the pipeline's other
 * calls on that connector waiting meanwhile, see sandbox/executor/materialize-op.ts.)
 *
 * A statement that returns rows (SELECT, WITH … SELECT, SHOW, DESCRIBE, …) goes through the connector's
 * `extract` (capped like any extract), any other through `execute`. A transaction the engine opened and did
 * not end when it failed is rolled back by `release`.
 */
import { TauError } from "../../server/contract";
import type { Dialect, SqlSession } from "../sdk/materializations/spec";
import { RawJson, type HostConnector } from "./types";

/** The connector kinds a materialization can run on, and the dialect each speaks. */
export const SESSION_DIALECTS: Readonly<Record<string, Dialect>> = {
  postgres: "postgres",
  redshift: "redshift",
  mysql: "mysql",
  duckdb_local: "duckdb",
  motherduck: "duckdb",
  bigquery: "bigquery",
  snowflake: "snowflake",
  clickhouse: "clickhouse",
};

/** A session the caller must `release` when the materialization ends (success or failure). */
export interface HostSqlSession extends SqlSession {
  /** Statements run so far, in order. */
  readonly statements: readonly string[];
  /** Ends the session: rolls back a transaction the engine left open when `failed`. Never rejects. */
  release(failed: boolean): Promise<void>;
}

const ROW_KEYWORDS = new Set(["select", "values", "show", "describe", "desc", "explain", "pragma", "table", "from", "summarize", "exists"]);
const WRITE_KEYWORDS = new Set(["insert", "update", "delete", "merge", "upsert", "replace"]);

/**
 * The statement's keywords at nesting depth 0, lower-cased, skipping comments, string literals and quoted
 * identifiers (enough to tell what kind of statement it is; not a parser).
 */
function topLevelWords(sql: string, max: number): string[] {
  const words: string[] = [];
  let depth = 0;
  /** A statement that opens with a parenthesis (`(SELECT …) UNION …`): its first word counts at any depth. */
  let leadingParen = false;
  let i = 0;
  while (i < sql.length && words.length < max) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === "\\" && c !== '"') j += 2;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === "$" && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64))) {
      // PostgreSQL dollar quoting: $$ … $$ or $tag$ … $tag$.
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))![0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? sql.length : end + tag.length;
    } else if (c === "(") {
      if (words.length === 0 && depth === 0 && !leadingParen) leadingParen = true;
      depth++;
      i++;
    } else if (c === ")") {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      if (depth === 0 || (leadingParen && words.length === 0)) words.push(sql.slice(i, j).toLowerCase());
      i = j;
    } else i++;
  }
  return words;
}

/** Whether a statement returns rows the engine reads (as opposed to a DDL/DML statement that changes rows). */
export function returnsRows(sql: string): boolean {
  const words = topLevelWords(sql, 4096);
  const first = words[0];
  if (first === undefined) return false;
  if (first === "with") {
    // WITH … SELECT returns rows; WITH … INSERT/UPDATE/DELETE/MERGE changes them (PostgreSQL, DuckDB).
    for (let i = 1; i < words.length; i++) {
      if (WRITE_KEYWORDS.has(words[i]!)) return false;
      if (words[i] === "select" || words[i] === "values") return true;
    }
    return true;
  }
  return ROW_KEYWORDS.has(first);
}

type TransactionEffect = "begin" | "end" | null;

function transactionEffect(sql: string): TransactionEffect {
  const words = topLevelWords(sql, 2);
  const first = words[0];
  if (first === "begin" || (first === "start" && words[1] === "transaction")) return "begin";
  if (first === "commit" || first === "rollback" || first === "end" || first === "abort") return "end";
  return null;
}

function rowsOf(value: unknown): Record<string, unknown>[] {
  const parsed = value instanceof RawJson ? (JSON.parse(value.text) as unknown) : value;
  if (!Array.isArray(parsed)) throw new TauError("TAU_E_INTERNAL", "The connector answered a query with something other than rows.");
  return parsed as Record<string, unknown>[];
}

function countOf(value: unknown): number {
  const n = typeof value === "object" && value !== null ? (value as { rowsAffected?: unknown }).rowsAffected : undefined;
  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}

/**
 * Opens a session on `connector` for `dialect`. Throws TAU_E_MATERIALIZE_CONFIG (field `dialect` or
 * `connector`) when the connector has no SQL session or speaks another dialect.
 */
export function openSqlSession(connector: HostConnector, dialect: Dialect): HostSqlSession {
  const spoken = SESSION_DIALECTS[connector.kind];
  if (spoken === undefined) {
    throw new TauError(
      "TAU_E_MATERIALIZE_CONFIG",
      `ctx.materialize: the ${connector.kind} connector cannot run SQL materializations.`,
      { field: "connector", config: "ctx.materialize", kind: connector.kind, supported: Object.keys(SESSION_DIALECTS) },
      `Materialize on a SQL connector: ${Object.keys(SESSION_DIALECTS).join(", ")}.`,
    );
  }
  if (spoken !== dialect) {
    throw new TauError(
      "TAU_E_MATERIALIZE_CONFIG",
      `ctx.materialize: dialect "${dialect}" does not fit the ${connector.kind} connector, which speaks "${spoken}".`,
      { field: "dialect", config: "ctx.materialize", kind: connector.kind, dialect, expected: spoken },
      `Omit dialect (the connector's own, "${spoken}", is the default) or pass dialect: "${spoken}".`,
    );
  }
  const statements: string[] = [];
  let inTransaction = false;
  let released = false;

  async function execute(sql: string): Promise<{ rows: Record<string, unknown>[]; rowsAffected: number }> {
    if (released) throw new TauError("TAU_E_INTERNAL", "The materialization's SQL session was used after it ended.");
    if (typeof sql !== "string" || sql.trim() === "") throw new TauError("TAU_E_INTERNAL", "The materialization engine sent an empty statement.");
    statements.push(sql);
    const effect = transactionEffect(sql);
    if (returnsRows(sql)) {
      const rows = rowsOf(await connector.call("extract", [sql]));
      return { rows, rowsAffected: 0 };
    }
    const answer = await connector.call("execute", [sql]);
    if (effect === "begin") inTransaction = true;
    else if (effect === "end") inTransaction = false;
    return { rows: [], rowsAffected: countOf(answer) };
  }

  async function release(failed: boolean): Promise<void> {
    if (released) return;
    released = true;
    if (!failed || !inTransaction) return;
    inTransaction = false;
    try {
      await connector.call("execute", ["ROLLBACK"]);
    } catch {
      // The connection is gone or the engine already ended the transaction: nothing left to undo.
    }
  }

  return {
    dialect,
    get statements(): readonly string[] {
      return statements;
    },
    execute,
    release,
  };
}
