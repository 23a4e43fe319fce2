/**
 * ClickHouse SQL that the `clickhouse` driver generates, as pure functions (golden-tested in
 * test/runtime/warehouse-sql.test.ts). Identifiers are quoted with backticks; tables are `table` or
 * `database.table`.
 *
 * Load design (see runtime/connectors/warehouse-load.ts for the shared steps):
 *   - stage: `CREATE TABLE stage AS target` (same columns and engine) or, for a missing target, a
 *     `MergeTree ORDER BY tuple()` table of Nullable columns; rows go in with `INSERT … FORMAT JSONEachRow`
 *     streamed by the client;
 *   - append: `INSERT INTO target (cols) SELECT cols FROM stage`;
 *   - replace: `EXCHANGE TABLES target AND stage` — atomic, readers see the old rows or the new ones;
 *   - upsert: `ALTER TABLE target DELETE WHERE (key) IN (SELECT key FROM stage)` run with
 *     `mutations_sync = 2`, then the INSERT … SELECT. ClickHouse has no MERGE and no multi-statement
 *     transactions: running it twice is idempotent, but between the two statements a reader may see the
 *     updated keys missing. ReplacingMergeTree was not chosen: its duplicates disappear only at merge time
 *     (or with FINAL on every read), which readers of an upserted table do not expect.
 *   - missing target: `RENAME TABLE stage TO target` (every mode).
 */
import type { TargetColumn, TypeFamily, ValueKind } from "./warehouse-load";
import { splitQualifiedName } from "./warehouse-common";

export interface ClickHouseTable {
  database: string | null;
  table: string;
  /** Quoted, qualified. */
  sql: string;
}

export function chQuote(name: string): string {
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

/** `table` or `database.table`. */
export function parseClickHouseTable(value: unknown): ClickHouseTable {
  const parts = splitQualifiedName(value, "`", 2);
  const table = parts[parts.length - 1].name;
  const database = parts.length === 2 ? parts[0].name : null;
  return { database, table, sql: chTableSql(database, table) };
}

export function chTableSql(database: string | null, table: string): string {
  return database === null ? chQuote(table) : `${chQuote(database)}.${chQuote(table)}`;
}

const TYPE_FOR: Record<ValueKind, string> = {
  bool: "Nullable(Bool)",
  int: "Nullable(Int64)",
  float: "Nullable(Float64)",
  date: "Nullable(Date)",
  timestamp: "Nullable(DateTime64(3))",
  string: "Nullable(String)",
  // JSON documents are stored as their text: the JSON column type cannot be Nullable and is still marked
  // experimental on many servers.
  json: "Nullable(String)",
};

export function chTypeFor(kind: ValueKind): { type: string; family: TypeFamily } {
  const type = TYPE_FOR[kind];
  return { type, family: kind === "json" ? "string" : kind };
}

/** The family of a ClickHouse type name (wrappers Nullable/LowCardinality removed). */
export function chFamily(type: string): TypeFamily {
  let t = type.trim();
  for (;;) {
    const m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
    if (!m) break;
    t = m[1].trim();
  }
  if (/^U?Int(8|16|32|64|128|256)$/.test(t)) return "int";
  if (/^(Float(32|64)|Decimal(32|64|128|256)?\b.*|BFloat16)$/.test(t)) return "float";
  if (/^(String|FixedString\(\d+\)|UUID|Enum(8|16)?\(.*\)|IPv4|IPv6)$/.test(t)) return "string";
  if (t === "Bool" || t === "Boolean") return "bool";
  if (t === "Date" || t === "Date32") return "date";
  if (/^DateTime(64)?(\(.*\))?$/.test(t)) return "timestamp";
  if (/^(JSON|Object\('json'\))(\(.*\))?$/i.test(t)) return "json";
  return "other";
}

/** Column list for DDL: `a Nullable(Int64), b Nullable(String)`. */
function columnDefs(columns: readonly TargetColumn[]): string {
  return columns.map((c) => `${chQuote(c.name)} ${c.type}`).join(", ");
}

function columnList(columns: readonly (TargetColumn | string)[]): string {
  return columns.map((c) => chQuote(typeof c === "string" ? c : c.name)).join(", ");
}

export const clickhouseSql = {
  describe: (t: string): string => `DESCRIBE TABLE ${t}`,
  createTable: (t: string, columns: readonly TargetColumn[]): string =>
    `CREATE TABLE ${t} (${columnDefs(columns)}) ENGINE = MergeTree ORDER BY tuple()`,
  createTableLike: (t: string, like: string): string => `CREATE TABLE ${t} AS ${like}`,
  addColumns: (t: string, columns: readonly TargetColumn[]): string =>
    `ALTER TABLE ${t} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${chQuote(c.name)} ${c.type}`).join(", ")}`,
  /** The table part the client puts in `INSERT INTO … (cols) FORMAT JSONEachRow`. */
  insertColumns: (columns: readonly TargetColumn[]): string[] => columns.map((c) => chQuote(c.name)),
  insertSelect: (target: string, stage: string, columns: readonly TargetColumn[]): string =>
    `INSERT INTO ${target} (${columnList(columns)}) SELECT ${columnList(columns)} FROM ${stage}`,
  exchange: (a: string, b: string): string => `EXCHANGE TABLES ${a} AND ${b}`,
  rename: (from: string, to: string): string => `RENAME TABLE ${from} TO ${to}`,
  drop: (t: string): string => `DROP TABLE IF EXISTS ${t}`,
  truncate: (t: string): string => `TRUNCATE TABLE ${t}`,
  deleteKeys: (target: string, stage: string, keys: readonly string[]): string =>
    `ALTER TABLE ${target} DELETE WHERE (${columnList(keys)}) IN (SELECT ${columnList(keys)} FROM ${stage})`,
};

/**
 * Positional params → ClickHouse's server-side parameters: the SQL names them `{p1:Type}`, `{p2:Type}`, …
 * (ClickHouse has no `?` placeholders); `params[0]` is `p1`.
 */
export function chQueryParams(params: readonly unknown[]): Record<string, unknown> | undefined {
  if (params.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  params.forEach((v, i) => {
    out[`p${i + 1}`] = v;
  });
  return out;
}

/** A row value in the form a JSONEachRow insert into a column of `family` takes. */
export function chInsertValue(value: unknown, family: TypeFamily): unknown {
  if (value === null || value === undefined) return null;
  if (family === "string" || family === "json") {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return JSON.stringify(value);
  }
  if (typeof value === "object") return JSON.stringify(value);
  return value;
}

const INT64_TYPES = /^(?:Nullable\()?(?:LowCardinality\()?U?Int(64|128|256)\)*$/;

/** A value as ClickHouse's JSON output wrote it → Tau's JSON (64-bit integers come quoted). */
export function chReadValue(value: unknown, type: string): unknown {
  if (typeof value === "string" && INT64_TYPES.test(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  return value;
}

/** Settings the driver sends with every query: ISO timestamps out, lenient timestamps in. */
export const CLICKHOUSE_SETTINGS = {
  date_time_output_format: "iso",
  date_time_input_format: "best_effort",
  output_format_json_quote_64bit_integers: 1,
} as const;
