/**
 * `load` for the DuckDB connectors (duckdb_local, motherduck): every batch of the RowSource is appended with
 * DuckDB's appender to a temporary staging table (widened as later batches show new columns or values), then
 * one transaction moves the staged rows into the target:
 *
 *   - missing table → created from the rows' inferred types (with a PRIMARY KEY on the mergeKey for upsert);
 *   - fields the table lacks → `ALTER TABLE … ADD COLUMN` in the same transaction;
 *   - `append` into an existing table whose column types the appender can take → the appender writes into
 *     the table itself, in one transaction (duckdb-append.ts); otherwise `INSERT … BY NAME`; `replace` → `DELETE` + `INSERT` when the rows have the table's columns,
 *     else `DROP` + `CREATE` + `INSERT` (readers see the old table or the new one, never an empty one);
 *   - `upsert` → `INSERT … ON CONFLICT (key) DO UPDATE` when the table has a PRIMARY KEY/UNIQUE constraint on
 *     exactly the mergeKey, else `DELETE … USING` + `INSERT`; staged rows with the same key: the last wins.
 *     Into an existing table the appender can fill, the staging table takes the table's own column types
 *     (values converted in JS as DuckDB's casts would), so the merge itself casts nothing.
 *
 * A value that cannot go into an existing column is refused while staging (TAU_E_CONNECTOR_TYPE_MISMATCH),
 * before the target is touched; any failure rolls the transaction back, so the target stays as it was.
 */
import { DuckDBDataChunkWriter, JSToDuckDBValueConverter, type DuckDBConnection } from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { appendDirect, directColumns, type DirectColumn } from "./duckdb-append";
import { convertDuckDbError, isDuckDbTransactionConflict } from "./duckdb-errors";
import { parseTableName, quoteIdent, type TableName } from "./duckdb-sql";
import { stageTypeFor, stageValue, type StageType } from "./duckdb-values";
import {
  ColumnInference,
  DUCKDB_TYPES,
  checkMergeKey,
  findColumn,
  findTypeConflict,
  logicalTypeOf,
  newColumns,
  type InferredColumn,
  type TargetColumn,
} from "./rows";
import type { LoadRequest, RowSource } from "./types";

const LOAD_CONFLICT_RETRIES = 8;
let stageCounter = 0;

interface ExistingTable {
  columns: TargetColumn[];
  /** The columns for appending straight into the table (duckdb-append.ts), or null when it needs staging. */
  direct: DirectColumn[] | null;
  /** Column lists of the table's PRIMARY KEY and UNIQUE constraints. */
  uniqueKeys: string[][];
}

interface StageColumn {
  name: string;
  stage: StageType;
}

/** Loads every batch of `source` into `request.table` on connection `c`; resolves to the rows loaded. */
export async function loadIntoDuckDb(c: DuckDBConnection, source: RowSource, request: LoadRequest): Promise<number> {
  const table = parseTableName(request.table);
  const mode = request.mode;
  const stage = `__tau_stage_${process.pid}_${++stageCounter}`;
  const stageSql = `temp.main.${quoteIdent(stage)}`;
  let sql = "";
  const run = async (statement: string): Promise<void> => {
    sql = statement;
    await c.run(statement);
  };
  let staged = false;
  try {
    sql = `DESCRIBE ${table.sql}`;
    const before = await describeTable(c, table);

    const inference = new ColumnInference();
    if (mode === "append" && before?.direct) {
      await run("BEGIN TRANSACTION");
      try {
        const loaded = await appendDirect(c, table, before.direct, source, inference, run, (what) => {
          sql = what;
        });
        await run("COMMIT");
        return loaded;
      } catch (err) {
        await c.run("ROLLBACK").catch(() => undefined);
        throw err;
      }
    }

    // 1. Stage every batch (memory stays at one batch; the staging table lives in DuckDB). An upsert into a
    // table the appender can fill stages with the table's own types, so the merge casts nothing.
    const stageColumns: StageColumn[] = [];
    let total = 0;
    let replaceConflict: TauError | null = null;
    const typedStage = mode === "upsert" && before?.direct ? before.direct : null;
    if (typedStage) {
      await run(`CREATE TEMP TABLE ${quoteIdent(stage)} AS SELECT * FROM ${table.sql} LIMIT 0`);
      staged = true;
      const stageName = parseTableName(`temp.main.${quoteIdent(stage)}`);
      total = await appendDirect(c, stageName, typedStage.map((col) => ({ ...col })), source, inference, run, (what) => {
        sql = what;
      });
    }
    for await (const batch of typedStage ? [] : source) {
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
          await run(`CREATE TEMP TABLE ${quoteIdent(stage)} (${stageColumns.map((s) => `${quoteIdent(s.name)} ${s.stage}`).join(", ")})`);
          staged = true;
        } else {
          await widenStage(run, stageSql, stageColumns, columns);
        }
        sql = `append ${batch.length} rows to the staging table`;
        await appendBatch(c, stage, stageColumns, batch);
      }
      total += batch.length;
    }
    const columns = inference.columns();
    if (columns.length > 0) checkMergeKey(request, columns);
    if (columns.length === 0 && (mode !== "replace" || !before)) return total;

    // 2. Move the staged rows in one transaction. Concurrent loads of other runs in this process can conflict
    // (e.g. both creating the table): the transaction is rolled back whole and retried a few times.
    for (let attempt = 1; ; attempt++) {
      sql = `DESCRIBE ${table.sql}`;
      const existing = attempt === 1 ? before : await describeTable(c, table);
      const rebuild = existing !== null && mode === "replace" && columns.length > 0 && !sameColumns(existing.columns, columns);
      if (existing && mode === "replace" && !rebuild && replaceConflict) throw replaceConflict;
      await run("BEGIN TRANSACTION");
      try {
        if (table.schemaSql) await run(`CREATE SCHEMA IF NOT EXISTS ${table.schemaSql}`);
        let keyed = false;
        if (!existing || rebuild) {
          if (rebuild) await run(`DROP TABLE ${table.sql}`);
          const key = mode === "upsert" && request.mergeKey ? `, PRIMARY KEY (${request.mergeKey.map(quoteIdent).join(", ")})` : "";
          await run(`CREATE TABLE ${rebuild ? "" : "IF NOT EXISTS "}${table.sql} (${columns.map((col) => `${quoteIdent(col.name)} ${DUCKDB_TYPES[col.type]}`).join(", ")}${key})`);
          keyed = key !== "";
        } else {
          for (const col of newColumns(columns, existing.columns)) {
            await run(`ALTER TABLE ${table.sql} ADD COLUMN IF NOT EXISTS ${quoteIdent(col.name)} ${DUCKDB_TYPES[col.type]}`);
          }
          keyed = mode === "upsert" && existing.uniqueKeys.some((k) => sameKey(k, request.mergeKey ?? []));
          if (mode === "replace") await run(`DELETE FROM ${table.sql}`);
        }
        if (columns.length > 0) {
          if (mode === "upsert") await upsert(run, table, stageSql, columns, request.mergeKey ?? [], keyed);
          else await run(`INSERT INTO ${table.sql} BY NAME SELECT * FROM ${stageSql}`);
        }
        await run("COMMIT");
        return total;
      } catch (err) {
        await c.run("ROLLBACK").catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        if (!isDuckDbTransactionConflict(message) || attempt >= LOAD_CONFLICT_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
      }
    }
  } catch (err) {
    if (err instanceof TauError) {
      if (err.details.mode === undefined && err.code === "TAU_E_CONNECTOR_TYPE_MISMATCH") err.details.mode = mode;
      throw err;
    }
    throw convertDuckDbError(err, { sql, table: table.text, details: { mode } });
  } finally {
    if (staged) await c.run(`DROP TABLE IF EXISTS ${stageSql}`).catch(() => undefined);
  }
}

async function upsert(
  run: (statement: string) => Promise<void>,
  table: TableName,
  stageSql: string,
  columns: InferredColumn[],
  mergeKey: string[],
  keyed: boolean,
): Promise<void> {
  const names = columns.map((col) => quoteIdent(col.name)).join(", ");
  const keys = mergeKey.map((k) => quoteIdent(findColumn(columns, k)?.name ?? k));
  // The last staged row of a key wins (rowid is the staging order).
  const latest = `SELECT ${names} FROM ${stageSql} QUALIFY row_number() OVER (PARTITION BY ${keys.join(", ")} ORDER BY rowid DESC) = 1`;
  if (keyed) {
    const keySet = new Set(mergeKey.map((k) => k.toLowerCase()));
    const rest = columns.filter((col) => !keySet.has(col.name.toLowerCase()));
    const action = rest.length === 0 ? "DO NOTHING" : `DO UPDATE SET ${rest.map((col) => `${quoteIdent(col.name)} = EXCLUDED.${quoteIdent(col.name)}`).join(", ")}`;
    await run(`INSERT INTO ${table.sql} (${names}) ${latest} ON CONFLICT (${keys.join(", ")}) ${action}`);
    return;
  }
  // No constraint to conflict on (an existing table made without one): delete the keys, then insert.
  await run(`DELETE FROM ${table.sql} AS __tau_t USING ${stageSql} AS __tau_s WHERE ${keys.map((k) => `__tau_t.${k} = __tau_s.${k}`).join(" AND ")}`);
  await run(`INSERT INTO ${table.sql} (${names}) ${latest}`);
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

async function appendBatch(c: DuckDBConnection, stage: string, columns: StageColumn[], rows: readonly Record<string, unknown>[]): Promise<void> {
  const appender = await c.createAppender(stage, "main", "temp");
  try {
    const writer = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
    const n = columns.length;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      const values = new Array<boolean | number | string | null>(n);
      for (let i = 0; i < n; i++) values[i] = stageValue(row[columns[i].name], columns[i].stage);
      writer.appendRow(values);
    }
    writer.flush();
  } finally {
    appender.closeSync();
  }
}

/** The table's columns and unique keys, or null when it does not exist. */
async function describeTable(c: DuckDBConnection, table: TableName): Promise<ExistingTable | null> {
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
  const constraints = await c.runAndReadAll(
    `SELECT constraint_column_names AS cols FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE') AND table_name = ? AND ${where}`,
    params,
  );
  const uniqueKeys = constraints.getRowObjectsJS().map((r) => (r.cols as unknown[]).map(String));
  let utcSession = false;
  try {
    const tz = (await c.runAndReadAll("SELECT current_setting('TimeZone') AS tz")).getRowObjectsJS()[0]?.tz;
    utcSession = /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z)$/i.test(String(tz));
  } catch {
    // no TimeZone setting (no ICU): TIMESTAMPTZ columns take the staging path
  }
  return { columns, uniqueKeys, direct: directColumns(described, utcSession) };
}

function sameColumns(existing: readonly { name: string }[], rows: readonly { name: string }[]): boolean {
  return existing.length === rows.length && rows.every((col) => findColumn(existing, col.name) !== undefined);
}

function sameKey(a: readonly string[], b: readonly string[]): boolean {
  const lower = (list: readonly string[]): string[] => list.map((k) => k.toLowerCase()).sort();
  const x = lower(a);
  const y = lower(b);
  return x.length === y.length && x.every((k, i) => k === y[i]);
}
