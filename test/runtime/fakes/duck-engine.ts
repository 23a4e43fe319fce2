/**
 * The storage behind the loopback warehouse servers (ClickHouse, BigQuery, Snowflake): an in-memory DuckDB
 * that runs each dialect's SQL after a light translation, plus a catalog of the column types each table
 * was declared with in the dialect's own names (what DESCRIBE / tables.get answer). The servers speak the
 * real wire protocols; the SQL semantics are DuckDB's, which is enough to check what the drivers send and
 * read back, not a claim about the real engines.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { tauJsonConverter } from "../../../runtime/connectors/duckdb-values";

export interface DeclaredColumn {
  name: string;
  type: string;
}

export type DuckErrorClass = "syntax" | "unknown_table" | "unknown_column" | "conversion" | "constraint" | "other";

export class DuckEngineError extends Error {
  constructor(
    message: string,
    readonly kind: DuckErrorClass,
  ) {
    super(message);
  }
}

export interface QueryResult {
  names: string[];
  /** DuckDB type names (e.g. BIGINT, VARCHAR, TIMESTAMP). */
  duckTypes: string[];
  /** JSON-ish values: numbers, strings, booleans, null; timestamps ISO; big integers as strings. */
  rows: unknown[][];
  rowsChanged: number;
}

export class DuckEngine {
  /** `schema.table` (lower case) → declared columns. */
  readonly catalog = new Map<string, DeclaredColumn[]>();
  /** Every statement the engine ran, translated, for tests that check what happened. */
  readonly log: string[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async create(schemas: string[] = []): Promise<DuckEngine> {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    for (const s of schemas) await connection.run(`CREATE SCHEMA IF NOT EXISTS "${s}"`);
    return new DuckEngine(instance, connection);
  }

  static key(schema: string | null, table: string): string {
    return `${(schema ?? "main").toLowerCase()}.${table.toLowerCase()}`;
  }

  async run(sql: string, params?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<QueryResult> {
    this.log.push(sql);
    try {
      const reader = await this.connection.runAndReadAll(sql, params);
      const types = reader.columnTypes();
      const rows = reader.getRows().map((values) => values.map((v, i) => (v === null ? null : tauJsonConverter(v, types[i], tauJsonConverter))));
      return { names: reader.deduplicatedColumnNames(), duckTypes: types.map((t) => t.toString()), rows, rowsChanged: reader.rowsChanged };
    } catch (err) {
      throw classify(err);
    }
  }

  async tableExists(schema: string | null, table: string): Promise<boolean> {
    const r = await this.run(
      "SELECT count(*) AS n FROM information_schema.tables WHERE lower(table_schema) = lower(?) AND lower(table_name) = lower(?)",
      [schema ?? "main", table],
    );
    return Number(r.rows[0][0]) > 0;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export function classify(err: unknown): DuckEngineError {
  const message = err instanceof Error ? err.message : String(err);
  if (/Parser Error/.test(message)) return new DuckEngineError(message, "syntax");
  if (/Catalog Error: Table|Table with name .* does not exist|Schema with name/.test(message)) return new DuckEngineError(message, "unknown_table");
  if (/Binder Error|Catalog Error/.test(message)) return new DuckEngineError(message, "unknown_column");
  if (/Conversion Error|Mismatch Type|Could not convert/.test(message)) return new DuckEngineError(message, "conversion");
  if (/Constraint Error/.test(message)) return new DuckEngineError(message, "constraint");
  return new DuckEngineError(message, "other");
}

/** Splits `a T, b U(1, 2)` at top-level commas. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = "";
  for (const ch of text) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === "`" || ch === '"' || ch === "'") quote = ch;
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += ch;
  }
  if (cur.trim() !== "") out.push(cur.trim());
  return out;
}

/** `` `name` `` / `"name"` / bare → name. */
export function unquote(part: string): string {
  const p = part.trim();
  if ((p.startsWith("`") && p.endsWith("`")) || (p.startsWith('"') && p.endsWith('"'))) {
    return p.slice(1, -1).replace(/\\`/g, "`").replace(/""/g, '"');
  }
  return p;
}

/** Splits a qualified name (`a`.`b`, "a"."b", a.b) into its parts, unquoted. */
export function nameParts(text: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let quote: string | null = null;
  for (const ch of text.trim()) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
      continue;
    }
    if (ch === "`" || ch === '"') {
      quote = ch;
      continue;
    }
    if (ch === ".") {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** A qualified name in DuckDB's quoting. */
export function duckName(parts: string[]): string {
  return parts.map((p) => `"${p.replace(/"/g, '""')}"`).join(".");
}

/** Backtick-quoted identifiers → double-quoted (the SQL the drivers and tests send has no backticks in strings). */
export function backticksToDouble(sql: string): string {
  return sql.replace(/`((?:[^`\\]|\\.)*)`/g, (_m, name: string) => `"${name.replace(/\\`/g, "`").replace(/"/g, '""')}"`);
}
