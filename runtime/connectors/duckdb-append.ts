/**
 * The fast path of `append` into an existing DuckDB table: DuckDB's appender writes straight into the target
 * inside one transaction (the appender joins the connection's open transaction, so a failure rolls every
 * batch back), skipping the staging table and the INSERT … SELECT that load's other paths need. Values are
 * converted in JS exactly as DuckDB's VARCHAR casts would convert them; the path is taken only when every
 * column of the table has a type converted here and no DEFAULT (the appender would not apply it).
 */
import {
  DuckDBDataChunkWriter,
  DuckDBDateValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  JSToDuckDBValueConverter,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBValueConverter,
} from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { quoteIdent, type TableName } from "./duckdb-sql";
import { stageValue } from "./duckdb-values";
import { DUCKDB_TYPES, findColumn, findTypeConflict, logicalTypeOf, type ColumnInference, type TargetColumn } from "./rows";
import type { RowSource } from "./types";

type Direct = "BOOLEAN" | "INT" | "BIGINT" | "DOUBLE" | "VARCHAR" | "DATE" | "TIMESTAMP" | "TIMESTAMPTZ";

/** The appender conversion for a DuckDB column type, or null when the column needs the staging path. */
export function directKind(sqlType: string, utcSession: boolean): Direct | null {
  switch (sqlType.toUpperCase()) {
    case "BOOLEAN":
      return "BOOLEAN";
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return "INT";
    case "BIGINT":
      return "BIGINT";
    case "DOUBLE":
    case "FLOAT":
      return "DOUBLE";
    case "VARCHAR":
      return "VARCHAR";
    case "DATE":
      return "DATE";
    case "TIMESTAMP":
      return "TIMESTAMP";
    // A zone-less text is read in the session's TimeZone by DuckDB's cast: converted here only under UTC.
    case "TIMESTAMP WITH TIME ZONE":
      return utcSession ? "TIMESTAMPTZ" : null;
    default:
      return null;
  }
}

export interface DirectColumn extends TargetColumn {
  direct: Direct;
}

// DuckDB value objects built here pass through; everything else takes node-api's JS conversion.
const converter: DuckDBValueConverter<unknown> = (value, type, self) =>
  value instanceof DuckDBDateValue || value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue
    ? value
    : (JSToDuckDBValueConverter as DuckDBValueConverter<unknown>)(value, type, self);

/**
 * Appends every batch of `source` to `table` (which exists, with `columns`) in the connection's open
 * transaction; fields the table lacks are added as columns first. Resolves to the rows appended.
 */
export async function appendDirect(
  c: DuckDBConnection,
  table: TableName,
  columns: DirectColumn[],
  source: RowSource,
  inference: ColumnInference,
  run: (statement: string) => Promise<void>,
  note: (what: string) => void,
): Promise<number> {
  let total = 0;
  // One appender for the whole load (it flushes a chunk at a time); a new one only after ALTER TABLE.
  let open: { appender: DuckDBAppender; writer: DuckDBDataChunkWriter } | null = null;
  const finish = (): void => {
    const current = open;
    open = null;
    if (!current) return;
    current.writer.flush();
    current.appender.closeSync(); // flushes what is left: a constraint violation surfaces here
  };
  try {
    for await (const batch of source) {
      if (batch.length === 0) continue;
      inference.observe(batch);
      const inferred = inference.columns();
      const conflict = findTypeConflict(batch, inferred, columns, table.text, total);
      if (conflict) throw conflict;
      for (const col of inferred) {
        if (findColumn(columns, col.name)) continue;
        finish();
        const sqlType = DUCKDB_TYPES[col.type];
        await run(`ALTER TABLE ${table.sql} ADD COLUMN ${quoteIdent(col.name)} ${sqlType}`);
        // JSON columns are VARCHAR underneath: their text goes in as is.
        columns.push({ name: col.name, sqlType, type: col.type, direct: col.type === "json" ? "VARCHAR" : (directKind(sqlType, true) ?? "VARCHAR") });
      }
      if (inferred.length === 0) {
        total += batch.length;
        continue;
      }
      // Each table column reads the row key that names it (the same name, or the same ignoring case).
      const keys = columns.map((col) => findColumn(inferred, col.name)?.name ?? null);
      note(`append ${batch.length} rows to ${table.text}`);
      if (!open) {
        const parts = table.parts;
        const appender = await c.createAppender(parts[parts.length - 1], parts.length >= 2 ? parts[parts.length - 2] : null, parts.length === 3 ? parts[0] : null);
        open = { appender, writer: DuckDBDataChunkWriter.forAppender(appender, { converter: converter as never }) };
      }
      const writer = open.writer;
      const n = columns.length;
      for (let r = 0; r < batch.length; r++) {
        const row = batch[r];
        const values = new Array<unknown>(n);
        for (let i = 0; i < n; i++) {
          const key = keys[i];
          values[i] = key === null ? null : toDirect(row[key], columns[i], table.text, total + r);
        }
        writer.appendRow(values as never);
      }
      total += batch.length;
    }
    finish();
    return total;
  } catch (err) {
    const current = open as { appender: DuckDBAppender } | null;
    open = null;
    try {
      current?.appender.closeSync();
    } catch {
      // the load failed already; the transaction is rolled back by the caller
    }
    // node-api names the column a value could not be converted for (e.g. 300 into a TINYINT).
    const setColumn = err instanceof Error ? /Failed to set column (\d+)/.exec(err.message) : null;
    const col = setColumn ? columns[Number(setColumn[1])] : undefined;
    if (col) {
      throw new TauError("TAU_E_CONNECTOR_TYPE_MISMATCH", `A value in column '${col.name}' does not fit its type ${col.sqlType} in ${table.text}. Nothing was loaded.`, {
        column: col.name,
        columnType: col.sqlType,
        table: table.text,
      });
    }
    throw err;
  }
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function mismatch(value: unknown, col: TargetColumn, table: string, row: number): TauError {
  return new TauError(
    "TAU_E_CONNECTOR_TYPE_MISMATCH",
    `Column '${col.name}' of ${table} is ${col.sqlType}; row ${row} has ${JSON.stringify(value)?.slice(0, 60)}, which does not fit. Nothing was loaded.`,
    { column: col.name, columnType: col.sqlType, row, table },
  );
}

/** A row value as the appender takes it for the column (what DuckDB's cast from text would produce). */
function toDirect(value: unknown, col: DirectColumn, table: string, row: number): unknown {
  if (value === null || value === undefined) return null;
  switch (col.direct) {
    case "VARCHAR":
      return stageValue(value, "VARCHAR");
    case "BOOLEAN":
      if (typeof value === "boolean") return value;
      if (typeof value === "number") return value !== 0;
      return /^(true|t|1)$/i.test(String(value));
    case "INT":
    case "DOUBLE":
      return typeof value === "number" ? value : Number(String(value).trim());
    case "BIGINT":
      return typeof value === "number" ? value : BigInt(String(value));
    case "DATE": {
      // Date columns repeat a few values: parse each text once per process (bounded).
      const text = String(value);
      let day = dateCache.get(text);
      if (day === undefined) {
        day = parseTimestamp(text, col, table, row) as DuckDBDateValue;
        if (dateCache.size >= 10_000) dateCache.clear();
        dateCache.set(text, day);
      }
      return day;
    }
    case "TIMESTAMP":
    case "TIMESTAMPTZ":
      return parseTimestamp(String(value), col, table, row);
  }
}

const dateCache = new Map<string, DuckDBDateValue>();

/** A date or timestamp text as DuckDB's cast to the column's type reads it. */
function parseTimestamp(value: string, col: DirectColumn, table: string, row: number): DuckDBDateValue | DuckDBTimestampValue | DuckDBTimestampTZValue {
  const m = TS_RE.exec(value);
  if (!m) throw mismatch(value, col, table, row);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw mismatch(value, col, table, row);
  }
  if (col.direct === "DATE") return new DuckDBDateValue(Math.floor(date.getTime() / 86_400_000));
  let micros = BigInt(date.getTime()) * 1000n + BigInt((m[7] ?? "").padEnd(6, "0").slice(0, 6) || "0");
  // DuckDB's cast to a plain TIMESTAMP keeps the wall clock as written; to TIMESTAMPTZ it honours the offset.
  if (col.direct === "TIMESTAMP") return new DuckDBTimestampValue(micros);
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0");
    micros -= BigInt(sign * minutes) * 60_000_000n;
  }
  return new DuckDBTimestampTZValue(micros);
}

/** The table's columns for the direct path, or null when one of them needs the staging path. */
export function directColumns(columns: readonly (TargetColumn & { hasDefault: boolean })[], utcSession: boolean): DirectColumn[] | null {
  const out: DirectColumn[] = [];
  for (const col of columns) {
    const direct = col.hasDefault ? null : directKind(col.sqlType, utcSession);
    if (direct === null) return null;
    out.push({ name: col.name, sqlType: col.sqlType, type: logicalTypeOf(col.sqlType), direct });
  }
  return out;
}
