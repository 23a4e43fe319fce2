/**
 * The fast path of `append` into an existing DuckDB table: DuckDB's appender writes straight into the target
 * inside one transaction (the appender joins the connection's open transaction, so a failure rolls every
 * batch back), skipping the staging table and the INSERT … SELECT that load's other paths need. Values are
 * converted in JS exactly as DuckDB's VARCHAR casts would convert them and written a column vector at a time
 * (duckdb-vectors.ts); the path is taken only when every column of the table has a type converted there and
 * no DEFAULT (the appender would not apply it).
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { ColumnBatch, batchesOf } from "./column-batch";
import { quoteIdent, type TableName } from "./duckdb-sql";
import { ChunkWriter, type VectorKind } from "./duckdb-vectors";
import { ColumnInference, DUCKDB_TYPES, findColumn, findTypeConflict, logicalTypeOf, type TargetColumn } from "./rows";
import type { RowSource } from "./types";

/** The vector a column of this DuckDB type is written as, or null when the column needs the staging path. */
export function directKind(sqlType: string, utcSession: boolean): VectorKind | null {
  switch (sqlType.toUpperCase()) {
    case "BOOLEAN":
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "BIGINT":
    case "DOUBLE":
    case "FLOAT":
    case "VARCHAR":
    case "DATE":
    case "TIMESTAMP":
      return sqlType.toUpperCase() as VectorKind;
    // A zone-less text is read in the session's TimeZone by DuckDB's cast: converted here only under UTC.
    case "TIMESTAMP WITH TIME ZONE":
      return utcSession ? "TIMESTAMPTZ" : null;
    default:
      return null;
  }
}

export interface DirectColumn extends TargetColumn {
  direct: VectorKind;
}

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
  let open: { appender: DuckDBAppender; writer: ChunkWriter; keys: (string | null)[] } | null = null;
  const finish = (): void => {
    const current = open;
    open = null;
    current?.appender.closeSync(); // flushes what is left: a constraint violation surfaces here
  };
  // A pipelined load (column-parts.ts): a part with a field the table lacks is appended together with every
  // later part as one batch (every row with that field is there, so its inferred type is the one-batch one),
  // and a type conflict is reported as over all the rows at once.
  const parts = source.parts ?? null;
  const original = parts ? columns.map((col) => ({ ...col })) : [];
  try {
    for await (let batch of batchesOf(source)) {
      if (batch.length === 0) continue;
      if (parts && batch instanceof ColumnBatch && batch.names.some((name) => !findColumn(columns, name))) batch = await parts.rest(batch);
      inference.observe(batch);
      const inferred = inference.columns();
      const conflict = findTypeConflict(batch, inferred, columns, table.text, total);
      if (conflict && parts) {
        const whole = await parts.whole();
        throw findTypeConflict(whole, new ColumnInference().observe(whole).columns(), original, table.text, 0) ?? conflict;
      }
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
      if (open && keys.some((k, i) => k !== open?.keys[i])) finish();
      if (!open) {
        const parts = table.parts;
        const appender = await c.createAppender(parts[parts.length - 1], parts.length >= 2 ? parts[parts.length - 2] : null, parts.length === 3 ? parts[0] : null);
        try {
          const writer = new ChunkWriter(
            appender,
            columns.map((col, i) => ({ name: col.name, sqlType: col.sqlType, kind: col.direct, key: keys[i] })),
            table.text,
          );
          open = { appender, writer, keys };
        } catch (err) {
          appender.closeSync();
          throw err;
        }
      }
      open.writer.write(batch, total);
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
    throw err;
  }
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
