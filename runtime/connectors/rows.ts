/**
 * Rows for `load`, dialect-neutral: what every SQL driver needs before it writes anything.
 *
 *   - `inferColumns(rows)` / `ColumnInference` → each column's **logical type** (boolean, integer, bigint,
 *     double, text, date, timestamp, timestamptz, json), turned into SQL with a per-dialect `DialectTypeMap`;
 *   - `parseLoadRequest(options, modes)` validates the guest's (hostile) load options into a `LoadRequest`;
 *   - `checkMergeKey`, `newColumns`, `findTypeConflict` are the schema checks every load makes against the
 *     target table, with the errors worded once for all drivers;
 *   - `parseRows`, `oneBatch` turn the guest's rows into the `RowSource` `loadFrom` takes.
 *
 * @example
 * ```ts
 * const request = parseLoadRequest(args[1], ["append", "replace", "upsert"]);
 * const columns = inferColumns(rows);                         // [{ name: "id", type: "bigint" }, …]
 * checkMergeKey(request, columns);
 * const ddl = columns.map((c) => `${quote(c.name)} ${POSTGRES_TYPES[c.type]}`).join(", ");
 * ```
 */
import { TauError } from "../../server/contract";
import { ColumnBatch, type Batch } from "./column-batch";
import type { LoadRequest, RowSource } from "./types";

/** The types `load` reasons about, whatever the database. */
export type LogicalType = "boolean" | "integer" | "bigint" | "double" | "text" | "date" | "timestamp" | "timestamptz" | "json";

/** SQL type names for each logical type in one dialect (what `load` uses when it creates a table or column). */
export type DialectTypeMap = Readonly<Record<LogicalType, string>>;

export const DUCKDB_TYPES: DialectTypeMap = {
  boolean: "BOOLEAN",
  integer: "INTEGER",
  bigint: "BIGINT",
  double: "DOUBLE",
  text: "VARCHAR",
  date: "DATE",
  timestamp: "TIMESTAMP",
  timestamptz: "TIMESTAMPTZ",
  json: "JSON",
};

export const POSTGRES_TYPES: DialectTypeMap = {
  boolean: "boolean",
  integer: "integer",
  bigint: "bigint",
  double: "double precision",
  text: "text",
  date: "date",
  timestamp: "timestamp",
  timestamptz: "timestamptz",
  json: "jsonb",
};

export const MYSQL_TYPES: DialectTypeMap = {
  boolean: "BOOLEAN",
  integer: "INT",
  bigint: "BIGINT",
  double: "DOUBLE",
  text: "TEXT",
  date: "DATE",
  timestamp: "DATETIME(6)",
  timestamptz: "TIMESTAMP(6)",
  json: "JSON",
};

/**
 * The logical type of a database column type name, for the common spellings of DuckDB, PostgreSQL/Redshift,
 * MySQL, ClickHouse, BigQuery and Snowflake; null when the type has no logical counterpart (BLOB, INTERVAL,
 * arrays, …) — such columns are not pre-checked and the database decides.
 */
export function logicalTypeOf(sqlType: string): LogicalType | null {
  const t = sqlType.trim().toUpperCase().replace(/\s+/g, " ");
  const base = t.replace(/\(.*\)$/, "").replace(/^NULLABLE\((.*)\)$/, "$1").trim();
  if (/^TINYINT\(1\)$/.test(t)) return "boolean";
  if (/^(BOOLEAN|BOOL|BIT)$/.test(base)) return "boolean";
  if (/^(TINYINT|SMALLINT|INTEGER|INT|INT2|INT4|MEDIUMINT|UTINYINT|USMALLINT|INT8|INT16|INT32|UINT8|UINT16|SERIAL|SMALLSERIAL)( UNSIGNED)?$/.test(base)) {
    return "integer";
  }
  if (/^(BIGINT|INT64|UINTEGER|UBIGINT|HUGEINT|UHUGEINT|UINT32|UINT64|INT128|INT256|BIGSERIAL|NUMBER\(\d+, ?0\))( UNSIGNED)?$/.test(base) || /^(INTEGER|INT) UNSIGNED$/.test(base)) {
    return "bigint";
  }
  if (/^(DOUBLE|DOUBLE PRECISION|FLOAT|FLOAT4|FLOAT8|FLOAT32|FLOAT64|REAL|DECIMAL|NUMERIC|NUMBER|BIGNUMERIC|BIGDECIMAL)$/.test(base)) return "double";
  if (/^(VARCHAR|TEXT|STRING|CHAR|CHARACTER|CHARACTER VARYING|BPCHAR|NVARCHAR|NCHAR|TINYTEXT|MEDIUMTEXT|LONGTEXT|UUID|ENUM|LOWCARDINALITY\(STRING\))$/.test(base)) {
    return "text";
  }
  if (/^(DATE|DATE32)$/.test(base)) return "date";
  if (/^(TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ|TIMESTAMP_TZ|TIMESTAMP_LTZ)$/.test(base) || /^DATETIME64\(.*,.*\)$/.test(t)) return "timestamptz";
  if (/^(TIMESTAMP|TIMESTAMP WITHOUT TIME ZONE|DATETIME|DATETIME64|TIMESTAMP_NTZ|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS)$/.test(base)) return "timestamp";
  if (/^(JSON|JSONB|VARIANT|OBJECT)$/.test(base)) return "json";
  return null;
}

// ── inference ───────────────────────────────────────────────────────────────────────────────────────────

/** A column `load` found in the rows, with the logical type its values call for. */
export interface InferredColumn {
  name: string;
  type: LogicalType;
}

export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
export const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

const BOOL = 1;
const INT = 2;
const FLOAT = 4;
const DATE = 8;
const TS_NAIVE = 16;
const TS_ZONED = 32;
const TEXT = 64;
const JSON_ = 128;

/**
 * Column types inferred over any number of batches (`observe` each), so a streamed load can widen a
 * column as later batches show other values. Columns keep their first-seen order.
 */
export class ColumnInference {
  private readonly seen = new Map<string, number>();

  observe(rows: Batch): this {
    const seen = this.seen;
    if (rows instanceof ColumnBatch) {
      // Columns in batch order, each scanned in one loop (the same first-seen order the rows would give).
      for (let c = 0; c < rows.names.length; c++) {
        const key = rows.names[c];
        const values = rows.columns[c];
        let bits = seen.get(key) ?? 0;
        if (values instanceof Float64Array) {
          // Finite numbers only (the decoder checked): integers until the first fraction.
          if (values.length > 0) bits |= INT;
          for (let r = 0; r < values.length && !(bits & FLOAT); r++) if (!Number.isSafeInteger(values[r])) bits |= FLOAT;
        } else {
          for (let r = 0; r < values.length; r++) {
            const v = values[r];
            if (v !== null && v !== undefined) bits |= valueBit(v);
          }
        }
        seen.set(key, bits);
      }
      return this;
    }
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (const key in row) {
        if (!Object.prototype.hasOwnProperty.call(row, key)) continue;
        const before = seen.get(key);
        const v = row[key];
        const bit = v === null || v === undefined ? 0 : valueBit(v);
        if (before === undefined) seen.set(key, bit);
        else if ((before | bit) !== before) seen.set(key, before | bit);
      }
    }
    return this;
  }

  columns(): InferredColumn[] {
    return [...this.seen].map(([name, bits]) => ({ name, type: typeForBits(bits) }));
  }
}

function valueBit(v: unknown): number {
  switch (typeof v) {
    case "boolean":
      return BOOL;
    case "number":
      return Number.isSafeInteger(v) ? INT : FLOAT;
    case "string": {
      if (v.length === 10 && DATE_RE.test(v)) return DATE;
      const m = v.length >= 16 && v.length <= 40 ? TIMESTAMP_RE.exec(v) : null;
      if (m && !Number.isNaN(Date.parse(v.replace(" ", "T")))) return m[1] ? TS_ZONED : TS_NAIVE;
      return TEXT;
    }
    default:
      return JSON_;
  }
}

function typeForBits(b: number): LogicalType {
  const families = (b & BOOL ? 1 : 0) + (b & (INT | FLOAT) ? 1 : 0) + (b & (DATE | TS_NAIVE | TS_ZONED | TEXT) ? 1 : 0) + (b & JSON_ ? 1 : 0);
  if (families !== 1) return "text";
  if (b & BOOL) return "boolean";
  if (b & FLOAT) return "double";
  if (b & INT) return "bigint";
  if (b & JSON_) return "json";
  if (b & TEXT) return "text";
  if (b & TS_ZONED && !(b & TS_NAIVE)) return b & DATE ? "timestamp" : "timestamptz";
  if (b & (TS_NAIVE | TS_ZONED)) return "timestamp";
  return "date";
}

/** Column names in first-seen order across all rows, each with the logical type its values call for. */
export function inferColumns(rows: readonly Record<string, unknown>[]): InferredColumn[] {
  return new ColumnInference().observe(rows).columns();
}

// ── load requests ───────────────────────────────────────────────────────────────────────────────────────

export type LoadMode = LoadRequest["mode"];

function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}

/**
 * Validates `load`'s options (hostile JSON) against the modes a connector supports. `mergeKey` is required
 * for upsert (a column name or a non-empty list of them) and refused for the other modes.
 */
export function parseLoadRequest(value: unknown, modes: readonly LoadMode[], kind = "this connector"): LoadRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw argsInvalid('load(rows, options) needs options like { table: "analytics.orders", mode: "append" }.');
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== "table" && key !== "mode" && key !== "mergeKey") throw argsInvalid(`load has no option '${key}' (options: table, mode, mergeKey).`, { option: key });
  }
  if (typeof o.table !== "string" || o.table.trim() === "" || o.table.length > 512) {
    throw argsInvalid('load needs the target table as a non-empty string, e.g. { table: "analytics.orders" }.', { option: "table" });
  }
  const mode = o.mode ?? "append";
  if (typeof mode !== "string" || !(modes as readonly string[]).includes(mode)) {
    throw argsInvalid(`${kind} load mode must be one of ${modes.map((m) => `"${m}"`).join(", ")}, got ${JSON.stringify(mode)?.slice(0, 60)}.`, {
      option: "mode",
    });
  }
  let mergeKey: string[] | null = null;
  if (mode === "upsert") {
    const raw = o.mergeKey;
    const list = typeof raw === "string" ? [raw] : raw;
    if (!Array.isArray(list) || list.length === 0 || list.length > 32 || list.some((k) => typeof k !== "string" || k === "" || k.length > 256)) {
      throw new TauError(
        "TAU_E_CONNECTOR_ARGS_INVALID",
        'load mode "upsert" needs mergeKey: the column (or list of columns) that identifies a row.',
        { option: "mergeKey" },
        'Pass e.g. { table: "orders", mode: "upsert", mergeKey: "id" } or mergeKey: ["tenant", "id"].',
      );
    }
    mergeKey = [...new Set(list as string[])];
  } else if (o.mergeKey !== undefined && o.mergeKey !== null) {
    throw argsInvalid(`mergeKey only applies to mode "upsert" (this load's mode is "${mode}").`, { option: "mergeKey" });
  }
  return { table: o.table, mode: mode as LoadMode, mergeKey };
}

/** Finds `name` among `columns` (exact first, then ignoring case, as unquoted SQL identifiers compare). */
export function findColumn<C extends { name: string }>(columns: readonly C[], name: string): C | undefined {
  return columns.find((c) => c.name === name) ?? columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

/** Throws a clear error when an upsert's mergeKey names a column the rows do not have. */
export function checkMergeKey(request: LoadRequest, columns: readonly { name: string }[]): void {
  if (request.mode !== "upsert" || !request.mergeKey) return;
  for (const key of request.mergeKey) {
    if (!findColumn(columns, key)) {
      throw new TauError(
        "TAU_E_CONNECTOR_ARGS_INVALID",
        `mergeKey column '${key}' is not in the rows (their columns: ${columns.map((c) => c.name).slice(0, 20).join(", ") || "none"}).`,
        { option: "mergeKey", mergeKey: request.mergeKey, column: key, table: request.table },
        "Set mergeKey to the column(s) that identify a row, spelled as in the rows' keys.",
      );
    }
  }
}

/** The rows' columns that the existing table lacks (they are added before loading). */
export function newColumns<C extends { name: string }>(rows: readonly C[], existing: readonly { name: string }[]): C[] {
  return rows.filter((c) => !findColumn(existing, c.name));
}

/** An existing column as the type checks see it. */
export interface TargetColumn {
  name: string;
  /** The database's own type name (for the error message). */
  sqlType: string;
  /** null: not checked here, the database decides. */
  type: LogicalType | null;
}

const INT_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Whether `value` (JSON from the guest or a cursor) can be stored in a column of logical type `type`. */
export function valueFits(value: unknown, type: LogicalType): boolean {
  if (value === null || value === undefined) return true;
  switch (type) {
    case "text":
    case "json":
      return true;
    case "boolean":
      return typeof value === "boolean" || value === 0 || value === 1 || (typeof value === "string" && /^(true|false|t|f|0|1)$/i.test(value));
    case "integer":
      if (typeof value === "number") return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
      return typeof value === "string" && INT_TEXT.test(value) && Number(value) >= INT32_MIN && Number(value) <= INT32_MAX;
    case "bigint":
      if (typeof value === "number") return Number.isInteger(value);
      if (typeof value !== "string" || !INT_TEXT.test(value) || value.length > 21) return false;
      return BigInt(value) >= INT64_MIN && BigInt(value) <= INT64_MAX;
    case "double":
      return (typeof value === "number" && Number.isFinite(value)) || (typeof value === "string" && NUMBER_TEXT.test(value.trim()));
    case "date":
    case "timestamp":
    case "timestamptz":
      return typeof value === "string" && (DATE_RE.test(value) || (TIMESTAMP_RE.test(value) && !Number.isNaN(Date.parse(value.replace(" ", "T")))));
  }
}

/** Which logical types always fit a column of another logical type (no value needs checking). */
const ALWAYS_FITS: Record<LogicalType, readonly LogicalType[]> = {
  boolean: ["boolean"],
  integer: ["integer"],
  bigint: ["integer", "bigint"],
  double: ["integer", "bigint", "double"],
  text: ["boolean", "integer", "bigint", "double", "text", "date", "timestamp", "timestamptz", "json"],
  json: ["boolean", "integer", "bigint", "double", "text", "date", "timestamp", "timestamptz", "json"],
  date: ["date"],
  timestamp: ["date", "timestamp", "timestamptz"],
  timestamptz: ["date", "timestamp", "timestamptz"],
};

function describeValue(value: unknown): string {
  if (typeof value === "string") return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `the ${typeof value} ${String(value)}`;
  return Array.isArray(value) ? "an array" : "an object";
}

/**
 * The first value in `rows` that cannot go into its existing column, as a `TAU_E_CONNECTOR_TYPE_MISMATCH`
 * naming the column, its type and the value; null when every value fits. Only columns whose inferred type
 * does not always fit are scanned, so a load whose rows match the table costs one pass over the columns.
 */
export function findTypeConflict(
  rows: Batch,
  inferred: readonly InferredColumn[],
  existing: readonly TargetColumn[],
  table: string,
  rowOffset = 0,
): TauError | null {
  for (const col of inferred) {
    const target = findColumn(existing, col.name);
    if (!target || target.type === null || ALWAYS_FITS[target.type].includes(col.type)) continue;
    const values = rows instanceof ColumnBatch ? (rows.column(col.name) ?? []) : null;
    for (let i = 0; i < rows.length; i++) {
      const value = values ? values[i] : (rows as readonly Record<string, unknown>[])[i][col.name];
      if (valueFits(value, target.type)) continue;
      return new TauError(
        "TAU_E_CONNECTOR_TYPE_MISMATCH",
        `Column '${target.name}' of ${table} is ${target.sqlType}; row ${rowOffset + i} has ${describeValue(value)}, which does not fit (the rows' values are ${col.type}). Nothing was loaded.`,
        { column: target.name, columnType: target.sqlType, valueType: col.type, row: rowOffset + i, table },
        `Convert '${target.name}' in the rows to ${target.type}, or change the column's type (ALTER TABLE), or load into another table.`,
      );
    }
  }
  return null;
}

// ── row sources ─────────────────────────────────────────────────────────────────────────────────────────

/** Validates the guest's rows: an array of plain objects. */
export function parseRows(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw argsInvalid("load(rows, options) needs rows as an array of objects.");
  for (let i = 0; i < value.length; i++) {
    const row = value[i];
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw argsInvalid(`Row ${i} is not an object; load takes an array of objects (one per row).`, { row: i });
    }
  }
  return value as Record<string, unknown>[];
}

/** Plain rows as a RowSource of one batch (none when there are no rows). */
export function oneBatch(rows: Record<string, unknown>[]): RowSource {
  return {
    async *[Symbol.asyncIterator]() {
      if (rows.length > 0) yield rows;
    },
  };
}
