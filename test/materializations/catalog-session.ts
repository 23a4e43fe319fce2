/**
 * A SqlSession for the dialects no server runs here (bigquery, snowflake, clickhouse; redshift too): it records
 * every statement and answers only the engine's catalog reads (from a table layout the test states) and its
 * COUNT(*) reads. What the golden tests check is the SQL the engine emits for that state.
 */
import type { Dialect, SqlSession } from "../../runtime/sdk/materializations/spec";

export type Abstract = "int" | "text" | "ts" | "date" | "bool";

const TYPES: Record<Exclude<Dialect, "postgres" | "duckdb" | "mysql">, Record<Abstract, string>> = {
  bigquery: { int: "INT64", text: "STRING", ts: "TIMESTAMP", date: "DATE", bool: "BOOL" },
  snowflake: { int: "NUMBER", text: "TEXT", ts: "TIMESTAMP_NTZ", date: "DATE", bool: "BOOLEAN" },
  clickhouse: { int: "Int64", text: "String", ts: "DateTime64(3)", date: "Date", bool: "Bool" },
  redshift: { int: "integer", text: "character varying(256)", ts: "timestamp without time zone", date: "date", bool: "boolean" },
};

const KINDS: Record<keyof typeof TYPES, { table: string; view: string }> = {
  bigquery: { table: "BASE TABLE", view: "VIEW" },
  snowflake: { table: "BASE TABLE", view: "VIEW" },
  clickhouse: { table: "MergeTree", view: "View" },
  redshift: { table: "r", view: "v" },
};

export interface CatalogState {
  /** The target's columns (null: it does not exist), and whether it is a view. */
  target: [string, Abstract][] | null;
  targetKind?: "table" | "view";
  /** The staged source's columns. */
  source: [string, Abstract][];
}

const CATALOG = /information_schema|pg_catalog|system\.tables/i;

export class CatalogSession implements SqlSession {
  readonly statements: string[] = [];
  constructor(
    readonly dialect: keyof typeof TYPES,
    private readonly state: CatalogState,
  ) {}

  private rows(cols: [string, Abstract][] | null, kind: "table" | "view"): Record<string, unknown>[] {
    if (cols === null) return [];
    const name = (c: string): string => (this.dialect === "snowflake" ? c.toUpperCase() : c);
    return cols.map(([c, t]) => ({ kind: KINDS[this.dialect][kind], column_name: name(c), data_type: TYPES[this.dialect][t] }));
  }

  async execute(sql: string): Promise<{ rows: Record<string, unknown>[]; rowsAffected: number }> {
    this.statements.push(sql);
    if (CATALOG.test(sql) && /^SELECT/.test(sql)) {
      if (/__tau_stage_/i.test(sql)) return { rows: this.rows(this.state.source, "table"), rowsAffected: 0 };
      return { rows: this.rows(this.state.target, this.state.targetKind ?? "table"), rowsAffected: 0 };
    }
    if (/^SELECT COUNT\(\*\) AS n FROM/.test(sql)) return { rows: [{ n: 3 }], rowsAffected: 0 };
    return { rows: [], rowsAffected: /^(INSERT|UPDATE|DELETE|MERGE)/.test(sql) ? 1 : 0 };
  }
}
