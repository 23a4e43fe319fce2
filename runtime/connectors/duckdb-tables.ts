/**
 * What the DuckDB load paths share — duckdb-load.ts (row objects) and duckdb-copy.ts (DuckDB → DuckDB chunks):
 * the target table's description, and the one transaction that moves a staging table's rows into the target
 * (create it, add columns, replace or merge), retried whole when a concurrent load of this process conflicts.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { TauError } from "../../server/contract";
import { directColumns, type DirectColumn } from "./duckdb-append";
import { convertDuckDbError, isDuckDbTransactionConflict } from "./duckdb-errors";
import { quoteIdent, type TableName } from "./duckdb-sql";
import { findColumn, logicalTypeOf, newColumns, type TargetColumn } from "./rows";
import type { LoadRequest } from "./types";

const LOAD_CONFLICT_RETRIES = 8;
let stageCounter = 0;

export interface ExistingTable {
  columns: TargetColumn[];
  /** The columns for appending straight into the table (duckdb-append.ts), or null when it needs staging. */
  direct: DirectColumn[] | null;
  /** Column lists of the table's PRIMARY KEY and UNIQUE constraints. */
  uniqueKeys: string[][];
  /** Whether a column has a DEFAULT (which the appender would not apply). */
  defaults: boolean;
}

/** A column of the rows being loaded, with the SQL type it gets when load creates or adds it. */
export interface ColumnDef {
  name: string;
  sqlType: string;
}

/** Runs the load's statements on its connection, remembering the last one (the error's details.sql). */
export class LoadStatements {
  last = "";

  constructor(readonly c: DuckDBConnection) {}

  /** Names what the load is doing when it is not a statement (e.g. "append 5000 rows to t"). */
  note(what: string): void {
    this.last = what;
  }

  async run(statement: string): Promise<void> {
    this.last = statement;
    await this.c.run(statement);
  }

  /** Rolls back the connection's transaction, if any (never rejects). */
  async rollback(): Promise<void> {
    await this.c.run("ROLLBACK").catch(() => undefined);
  }
}

/** A fresh name for a load's staging table (in the connection's temp schema). */
export function stageName(): { name: string; sql: string } {
  const name = `__tau_stage_${process.pid}_${++stageCounter}`;
  return { name, sql: `temp.main.${quoteIdent(name)}` };
}

/** The table's columns and unique keys, or null when it does not exist. */
export async function describeTable(c: DuckDBConnection, table: TableName): Promise<ExistingTable | null> {
  let rows: Record<string, unknown>[];
  try {
    rows = (await c.runAndReadAll(`DESCRIBE ${table.sql}`)).getRowObjectsJS();
  } catch (err) {
    const converted = convertDuckDbError(err);
    if (converted.code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT") return null;
    throw err;
  }
  const described = rows.map((r) => ({
    name: String(r.column_name),
    sqlType: String(r.column_type),
    type: logicalTypeOf(String(r.column_type)),
    hasDefault: r.default !== null && r.default !== undefined,
  }));
  const columns = described.map(({ name, sqlType, type }) => ({ name, sqlType, type }));
  const name = table.parts[table.parts.length - 1];
  const where =
    table.parts.length === 1
      ? "database_name = current_database() AND schema_name = current_schema()"
      : table.parts.length === 2
        ? "(schema_name = ? OR database_name = ?)"
        : "database_name = ? AND schema_name = ?";
  const params = table.parts.length === 1 ? [name] : [name, table.parts[0], table.parts[table.parts.length - 2]];
  // The table's unique keys and the session's time zone in one round trip.
  const extra = (
    await c.runAndReadAll(
      `SELECT (SELECT list(constraint_column_names) FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE') AND table_name = ? AND ${where}) AS keys, ` +
        "(SELECT value FROM duckdb_settings() WHERE name = 'TimeZone') AS tz",
      params,
    )
  ).getRowObjectsJS()[0];
  const uniqueKeys = ((extra?.keys as unknown[][] | null) ?? []).map((cols) => cols.map(String));
  // No TimeZone setting (no ICU): TIMESTAMPTZ columns take the staging path.
  const utcSession = /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z)$/i.test(String(extra?.tz ?? ""));
  return { columns, uniqueKeys, direct: directColumns(described, utcSession), defaults: described.some((c) => c.hasDefault) };
}

/**
 * Moves the rows of the staging table `stageSql` (whose columns are `columns`) into `table` in one
 * transaction: creates the table (with a PRIMARY KEY on the mergeKey for upsert) or adds the columns it
 * lacks, then appends, replaces (DELETE + INSERT, or DROP + CREATE when the columns changed) or merges.
 * `before` is the table as described before staging; a concurrent conflict re-describes and retries.
 */
export async function moveStaged(
  st: LoadStatements,
  table: TableName,
  stageSql: string,
  columns: readonly ColumnDef[],
  request: LoadRequest,
  before: ExistingTable | null,
  replaceConflict: TauError | null,
): Promise<void> {
  const mode = request.mode;
  for (let attempt = 1; ; attempt++) {
    st.note(`DESCRIBE ${table.sql}`);
    const existing = attempt === 1 ? before : await describeTable(st.c, table);
    const rebuild = existing !== null && mode === "replace" && columns.length > 0 && !sameColumns(existing.columns, columns);
    if (existing && mode === "replace" && !rebuild && replaceConflict) throw replaceConflict;
    await st.run("BEGIN TRANSACTION");
    try {
      if (table.schemaSql) await st.run(`CREATE SCHEMA IF NOT EXISTS ${table.schemaSql}`);
      let keyed = false;
      if (!existing || rebuild) {
        if (rebuild) await st.run(`DROP TABLE ${table.sql}`);
        const key = mode === "upsert" && request.mergeKey ? `, PRIMARY KEY (${request.mergeKey.map(quoteIdent).join(", ")})` : "";
        await st.run(`CREATE TABLE ${rebuild ? "" : "IF NOT EXISTS "}${table.sql} (${columns.map((col) => `${quoteIdent(col.name)} ${col.sqlType}`).join(", ")}${key})`);
        keyed = key !== "";
      } else {
        for (const col of newColumns(columns, existing.columns)) {
          await st.run(`ALTER TABLE ${table.sql} ADD COLUMN IF NOT EXISTS ${quoteIdent(col.name)} ${col.sqlType}`);
        }
        keyed = mode === "upsert" && existing.uniqueKeys.some((k) => sameKey(k, request.mergeKey ?? []));
        if (mode === "replace") await st.run(`DELETE FROM ${table.sql}`);
      }
      if (columns.length > 0) {
        if (mode === "upsert") await upsert(st, table, stageSql, columns, request.mergeKey ?? [], keyed);
        else await st.run(`INSERT INTO ${table.sql} BY NAME SELECT * FROM ${stageSql}`);
      }
      await st.run("COMMIT");
      return;
    } catch (err) {
      await st.rollback();
      const message = err instanceof Error ? err.message : String(err);
      if (!isDuckDbTransactionConflict(message) || attempt >= LOAD_CONFLICT_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
    }
  }
}

async function upsert(st: LoadStatements, table: TableName, stageSql: string, columns: readonly ColumnDef[], mergeKey: string[], keyed: boolean): Promise<void> {
  const names = columns.map((col) => quoteIdent(col.name)).join(", ");
  const keys = mergeKey.map((k) => quoteIdent(findColumn(columns, k)?.name ?? k));
  // The last staged row of a key wins (rowid is the staging order).
  const latest = `SELECT ${names} FROM ${stageSql} QUALIFY row_number() OVER (PARTITION BY ${keys.join(", ")} ORDER BY rowid DESC) = 1`;
  if (keyed) {
    const keySet = new Set(mergeKey.map((k) => k.toLowerCase()));
    const rest = columns.filter((col) => !keySet.has(col.name.toLowerCase()));
    const action = rest.length === 0 ? "DO NOTHING" : `DO UPDATE SET ${rest.map((col) => `${quoteIdent(col.name)} = EXCLUDED.${quoteIdent(col.name)}`).join(", ")}`;
    await st.run(`INSERT INTO ${table.sql} (${names}) ${latest} ON CONFLICT (${keys.join(", ")}) ${action}`);
    return;
  }
  // No constraint to conflict on (an existing table made without one): delete the keys, then insert.
  await st.run(`DELETE FROM ${table.sql} AS __tau_t USING ${stageSql} AS __tau_s WHERE ${keys.map((k) => `__tau_t.${k} = __tau_s.${k}`).join(" AND ")}`);
  await st.run(`INSERT INTO ${table.sql} (${names}) ${latest}`);
}

export function sameColumns(existing: readonly { name: string }[], rows: readonly { name: string }[]): boolean {
  return existing.length === rows.length && rows.every((col) => findColumn(existing, col.name) !== undefined);
}

function sameKey(a: readonly string[], b: readonly string[]): boolean {
  const lower = (list: readonly string[]): string[] => list.map((k) => k.toLowerCase()).sort();
  const x = lower(a);
  const y = lower(b);
  return x.length === y.length && x.every((k, i) => k === y[i]);
}
