/**
 * `load` for the DuckDB connectors (duckdb_local, motherduck): every batch of the RowSource is appended with
 * DuckDB's appender, a column vector at a time (duckdb-vectors.ts), to a temporary staging table (widened as
 * later batches show new columns or values), then one transaction moves the staged rows into the target
 * (duckdb-tables.ts):
 *
 *   - missing table → created from the rows' inferred types (with a PRIMARY KEY on the mergeKey for upsert);
 *   - fields the table lacks → `ALTER TABLE … ADD COLUMN` in the same transaction;
 *   - `append` into an existing table whose column types the appender can take → the appender writes into
 *     the table itself, in one transaction (duckdb-append.ts); otherwise `INSERT … BY NAME`;
 *   - `replace` → `DELETE` + `INSERT` when the rows have the table's columns, else `DROP` + `CREATE` +
 *     `INSERT` (readers see the old table or the new one, never an empty one);
 *   - `upsert` → `INSERT … ON CONFLICT (key) DO UPDATE` when the table has a PRIMARY KEY/UNIQUE constraint on
 *     exactly the mergeKey, else `DELETE … USING` + `INSERT`; staged rows with the same key: the last wins.
 *     Into an existing table the appender can fill, the staging table takes the table's own column types
 *     (values converted in JS as DuckDB's casts would), so the merge itself casts nothing.
 *
 * A host-side copy whose source is another DuckDB query goes chunk by chunk with no JS values at all
 * (duckdb-copy.ts) when the column types allow it, else through the rows like any other source.
 *
 * A value that cannot go into an existing column is refused while staging (TAU_E_CONNECTOR_TYPE_MISMATCH),
 * before the target is touched; any failure rolls the transaction back, so the target stays as it was.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { batchesOf, columnSource, type Batch } from "./column-batch";
import { appendDirect } from "./duckdb-append";
import { copyChunks } from "./duckdb-copy";
import { DuckDbCursor } from "./duckdb-cursor";
import { convertDuckDbError } from "./duckdb-errors";
import { parseTableName, quoteIdent } from "./duckdb-sql";
import { LoadStatements, describeTable, moveStaged, stageName, type ExistingTable } from "./duckdb-tables";
import { stageTypeFor, type StageType } from "./duckdb-values";
import { ChunkWriter } from "./duckdb-vectors";
import { ColumnInference, DUCKDB_TYPES, checkMergeKey, findTypeConflict, type InferredColumn } from "./rows";
import type { LoadRequest, RowSource } from "./types";

interface StageColumn {
  name: string;
  stage: StageType;
}

/** Loads every batch of `source` into `request.table` on connection `c`; resolves to the rows loaded. */
export async function loadIntoDuckDb(c: DuckDBConnection, source: RowSource, request: LoadRequest): Promise<number> {
  const table = parseTableName(request.table);
  const mode = request.mode;
  const st = new LoadStatements(c);
  try {
    st.note(`DESCRIBE ${table.sql}`);
    const before = await describeTable(c, table);
    if (source.cursor instanceof DuckDbCursor) {
      const copied = await copyChunks(st, source.cursor, table, request, before);
      if (copied !== null) return copied;
    }
    return await loadRows(st, source, table, request, before);
  } catch (err) {
    if (err instanceof TauError) {
      if (err.details.mode === undefined && err.code === "TAU_E_CONNECTOR_TYPE_MISMATCH") err.details.mode = mode;
      throw err;
    }
    throw convertDuckDbError(err, { sql: st.last, table: table.text, details: { mode } });
  }
}

async function loadRows(st: LoadStatements, source: RowSource, table: ReturnType<typeof parseTableName>, request: LoadRequest, before: ExistingTable | null): Promise<number> {
  const { c } = st;
  const mode = request.mode;
  // Rows arriving in parts (a pipelined load) are appended as they come only into a table the appender can
  // fill; any other load waits for every part and goes exactly as the same rows in one batch.
  if (source.parts && !(mode === "append" && before?.direct)) source = columnSource(await source.parts.whole());
  const run = (statement: string): Promise<void> => st.run(statement);
  const note = (what: string): void => st.note(what);
  const inference = new ColumnInference();
  if (mode === "append" && before?.direct) {
    await run("BEGIN TRANSACTION");
    try {
      const loaded = await appendDirect(c, table, before.direct, source, inference, run, note);
      await run("COMMIT");
      return loaded;
    } catch (err) {
      await st.rollback();
      throw err;
    }
  }

  const stage = stageName();
  let staged = false;
  try {
    // 1. Stage every batch (memory stays at one batch; the staging table lives in DuckDB). An upsert into a
    // table the appender can fill stages with the table's own types, so the merge casts nothing.
    const stageColumns: StageColumn[] = [];
    let total = 0;
    let replaceConflict: TauError | null = null;
    const typedStage = mode === "upsert" && before?.direct ? before.direct : null;
    if (typedStage) {
      await run(`CREATE TEMP TABLE ${quoteIdent(stage.name)} AS SELECT * FROM ${table.sql} LIMIT 0`);
      staged = true;
      const stageTable = parseTableName(stage.sql);
      total = await appendDirect(c, stageTable, typedStage.map((col) => ({ ...col })), source, inference, run, note);
    }
    for await (const batch of typedStage ? [] : batchesOf(source)) {
      if (batch.length === 0) continue;
      inference.observe(batch);
      const columns = inference.columns();
      if (before) {
        const conflict = findTypeConflict(batch, columns, before.columns, table.text, total);
        // replace may rebuild the table with the rows' own types; whether it does is known after the last batch.
        if (conflict && mode !== "replace") throw conflict;
        replaceConflict ??= conflict;
      }
      if (columns.length > 0) {
        if (!staged) {
          for (const col of columns) stageColumns.push({ name: col.name, stage: stageTypeFor(col.type) });
          await run(`CREATE TEMP TABLE ${quoteIdent(stage.name)} (${stageColumns.map((s) => `${quoteIdent(s.name)} ${s.stage}`).join(", ")})`);
          staged = true;
        } else {
          await widenStage(run, stage.sql, stageColumns, columns);
        }
        note(`append ${batch.length} rows to the staging table`);
        await appendBatch(c, stage.name, stageColumns, batch, table.text, total);
      }
      total += batch.length;
    }
    const columns = inference.columns();
    if (columns.length > 0) checkMergeKey(request, columns);
    if (columns.length === 0 && (mode !== "replace" || !before)) return total;

    // 2. Move the staged rows in one transaction.
    const defs = columns.map((col) => ({ name: col.name, sqlType: DUCKDB_TYPES[col.type] }));
    await moveStaged(st, table, stage.sql, defs, request, before, replaceConflict);
    return total;
  } finally {
    if (staged) await c.run(`DROP TABLE IF EXISTS ${stage.sql}`).catch(() => undefined);
  }
}

/** Adds the staging columns a later batch introduced, and widens those whose values changed family. */
async function widenStage(run: (statement: string) => Promise<void>, stageSql: string, stageColumns: StageColumn[], columns: InferredColumn[]): Promise<void> {
  for (const col of columns) {
    const want = stageTypeFor(col.type);
    const have = stageColumns.find((s) => s.name === col.name);
    if (!have) {
      stageColumns.push({ name: col.name, stage: want });
      await run(`ALTER TABLE ${stageSql} ADD COLUMN ${quoteIdent(col.name)} ${want}`);
    } else if (have.stage !== want) {
      const name = quoteIdent(col.name);
      // Whole doubles staged so far read as JavaScript writes them ("1", not DuckDB's "1.0").
      const using =
        have.stage === "DOUBLE" && want === "VARCHAR"
          ? ` USING CASE WHEN ${name} = trunc(${name}) AND abs(${name}) < 9007199254740992 THEN CAST(CAST(${name} AS BIGINT) AS VARCHAR) ELSE CAST(${name} AS VARCHAR) END`
          : "";
      have.stage = want;
      await run(`ALTER TABLE ${stageSql} ALTER ${name} SET DATA TYPE ${want}${using}`);
    }
  }
}

async function appendBatch(c: DuckDBConnection, stage: string, columns: StageColumn[], rows: Batch, table: string, rowOffset: number): Promise<void> {
  const appender = await c.createAppender(stage, "main", "temp");
  try {
    new ChunkWriter(appender, columns.map((col) => ({ name: col.name, sqlType: col.stage, kind: col.stage, key: col.name })), table).write(rows, rowOffset);
  } finally {
    appender.closeSync();
  }
}
