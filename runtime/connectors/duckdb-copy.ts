/**
 * DuckDB → DuckDB host-side copies (`target.load(source.query(sql), options)` with both ends duckdb_local or
 * motherduck): the source query's result chunks go into the target's appender as DuckDB returned them — no row
 * objects, no JSON, no per-value conversion. While the target appends one chunk, the source computes the next.
 *
 *   - `append` into a table whose columns are the result's (same names, order and types, no DEFAULT) → the
 *     appender writes into the table itself, in one transaction;
 *   - otherwise the chunks fill a staging table with the result's own column types, and the one transaction
 *     every load ends with moves them (duckdb-tables.ts: create, add columns, replace, merge).
 *
 * A table the copy creates or extends gets the source's own column types (DECIMAL(18,3) stays DECIMAL(18,3),
 * a LIST stays a LIST, where row objects would infer DOUBLE and JSON). The path is taken only when every
 * result column goes into the target without a cast that could change or refuse a value — the same type, or
 * a widening such as INTEGER → BIGINT or DATE → TIMESTAMP; otherwise, and for an empty result, the copy goes
 * through the rows (duckdb-load.ts) with their value checks and errors.
 *
 * The source is never attached to the target's database: its query runs on the source handle's own connection
 * under that handle's settings (the tenant policy's `enable_external_access=false` stays in force), exactly as
 * a cursor for `stream()` does. A failure — including the source's connector closing mid-copy — rolls the
 * target's transaction back (or drops the staging table before the target is touched).
 */
import { DuckDBTypeId, type DuckDBDataChunk, type DuckDBType } from "@duckdb/node-api";
import type { DuckDbCursor } from "./duckdb-cursor";
import { quoteIdent, type TableName } from "./duckdb-sql";
import { moveStaged, sameColumns, stageName, type ColumnDef, type ExistingTable, type LoadStatements } from "./duckdb-tables";
import { checkMergeKey, findColumn } from "./rows";
import type { LoadRequest } from "./types";

/**
 * Copies the rest of `cursor` into `table`; resolves to the rows copied, or to null (having read nothing)
 * when the copy must go through row objects instead.
 */
export async function copyChunks(st: LoadStatements, cursor: DuckDbCursor, table: TableName, request: LoadRequest, before: ExistingTable | null): Promise<number | null> {
  const columns = resultColumns(cursor.names, cursor.types);
  if (!columns) return null;
  // A replace that rebuilds the table (other columns) takes the result's types whatever the table had.
  const keepsTable = before !== null && !(request.mode === "replace" && !sameColumns(before.columns, columns));
  if (keepsTable && !columns.every((col) => fits(col, before.columns))) return null;
  const first = await cursor.nextChunk();
  // No rows: the row path handles the empty load (it reads the exhausted cursor).
  if (first === null) return null;
  if (request.mode === "upsert") checkMergeKey(request, columns);
  const chunks = prefetched(cursor, first);

  if (request.mode === "append" && before && !before.defaults && sameLayout(before.columns, columns)) {
    await st.run("BEGIN TRANSACTION");
    try {
      const total = await appendChunks(st, table, chunks);
      await st.run("COMMIT");
      return total;
    } catch (err) {
      await st.rollback();
      throw err;
    }
  }

  const stage = stageName();
  let staged = false;
  try {
    await st.run(`CREATE TEMP TABLE ${quoteIdent(stage.name)} (${columns.map((col) => `${quoteIdent(col.name)} ${col.sqlType}`).join(", ")})`);
    staged = true;
    const total = await appendChunks(st, { text: table.text, sql: stage.sql, schemaSql: "temp.main", parts: ["temp", "main", stage.name] }, chunks);
    await moveStaged(st, table, stage.sql, columns, request, before, null);
    return total;
  } finally {
    if (staged) await st.c.run(`DROP TABLE IF EXISTS ${stage.sql}`).catch(() => undefined);
  }
}

/** Appends every chunk to `table` with one appender (in the connection's transaction, if one is open). */
async function appendChunks(st: LoadStatements, table: TableName, chunks: AsyncIterable<DuckDBDataChunk>): Promise<number> {
  const parts = table.parts;
  const appender = await st.c.createAppender(parts[parts.length - 1], parts.length >= 2 ? parts[parts.length - 2] : null, parts.length === 3 ? parts[0] : null);
  let total = 0;
  try {
    for await (const chunk of chunks) {
      st.note(`append rows ${total}–${total + chunk.rowCount} of the copy to ${table.text}`);
      appender.appendDataChunk(chunk);
      total += chunk.rowCount;
    }
    st.note(`append ${total} rows to ${table.text}`);
  } catch (err) {
    try {
      appender.closeSync();
    } catch {
      // the copy failed already; the caller rolls back or drops the staging table
    }
    throw err;
  }
  appender.closeSync(); // flushes what is left: a constraint violation surfaces here
  return total;
}

/** The cursor's chunks, `first` then the rest, each next one fetched while the previous is appended. */
async function* prefetched(cursor: DuckDbCursor, first: DuckDBDataChunk): AsyncGenerator<DuckDBDataChunk> {
  let current: DuckDBDataChunk | null = first;
  while (current) {
    const next = cursor.nextChunk();
    next.catch(() => undefined); // awaited below; a copy that stops early leaves it to the cursor's close
    yield current;
    current = await next;
  }
}

// ── which results the chunks can carry ───────────────────────────────────────────────────────────────

const SCALARS = new Set<DuckDBTypeId>([
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.BLOB,
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.INTERVAL,
  DuckDBTypeId.UUID,
]);

/** Whether the type's SQL spelling (`toString`) creates the same type again in another database. */
function portable(type: DuckDBType): boolean {
  if (type.alias !== undefined && !(type.alias === "JSON" && type.typeId === DuckDBTypeId.VARCHAR)) return false;
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return portable(type.valueType);
    case DuckDBTypeId.MAP:
      return portable(type.keyType) && portable(type.valueType);
    case DuckDBTypeId.STRUCT:
      return type.entryTypes.every(portable) && type.entryNames.every((name) => !/["\\]/.test(name));
    default:
      return SCALARS.has(type.typeId);
  }
}

/** The result's columns with their SQL types, or null when a type or a name does not carry over as is. */
export function resultColumns(names: readonly string[], types: readonly DuckDBType[]): ColumnDef[] | null {
  const seen = new Set<string>();
  const columns: ColumnDef[] = [];
  for (let i = 0; i < names.length; i++) {
    const key = names[i].toLowerCase();
    // DuckDB's column names are case-insensitive: "a" and "A" cannot both be columns of the target.
    if (seen.has(key) || !portable(types[i])) return null;
    seen.add(key);
    columns.push({ name: names[i], sqlType: types[i].alias === "JSON" ? "JSON" : types[i].toString() });
  }
  return columns.length > 0 ? columns : null;
}

const SIGNED: Readonly<Record<string, number>> = { TINYINT: 1, SMALLINT: 2, INTEGER: 3, BIGINT: 4, HUGEINT: 5 };
const UNSIGNED: Readonly<Record<string, number>> = { UTINYINT: 1, USMALLINT: 2, UINTEGER: 3, UBIGINT: 4, UHUGEINT: 5 };

/** Whether every value of type `from` goes into a column of type `to` unchanged (or exactly widened). */
export function widensTo(from: string, to: string): boolean {
  const f = from.toUpperCase();
  const t = to.toUpperCase();
  if (f === t) return true;
  if (f in SIGNED) return (t in SIGNED && SIGNED[f] <= SIGNED[t]) || t === "DOUBLE";
  if (f in UNSIGNED) return (t in UNSIGNED && UNSIGNED[f] <= UNSIGNED[t]) || (t in SIGNED && UNSIGNED[f] < SIGNED[t]) || t === "DOUBLE";
  if (f === "FLOAT") return t === "DOUBLE";
  if (f === "DATE") return t === "TIMESTAMP";
  return false;
}

/** A result column a table holds: absent (load adds it) or of a type its values widen to. */
function fits(col: ColumnDef, existing: readonly { name: string; sqlType: string }[]): boolean {
  const target = findColumn(existing, col.name);
  return !target || widensTo(col.sqlType, target.sqlType);
}

/** Whether the table's columns are the result's, in order, with the same types (the appender takes the chunks as they are). */
function sameLayout(existing: readonly { name: string; sqlType: string }[], columns: readonly ColumnDef[]): boolean {
  return (
    existing.length === columns.length &&
    columns.every((col, i) => existing[i].name.toLowerCase() === col.name.toLowerCase() && existing[i].sqlType.toUpperCase() === col.sqlType.toUpperCase())
  );
}
