/**
 * The bulk path of mysql's load, and the checks each batch goes through (see mysql-load.ts for the modes).
 *
 * `LOAD DATA LOCAL INFILE` fed by a stream built from the batches (mysql2's infileStreamFactory; one
 * statement for the whole source, memory flat), when the server allows local_infile; else multi-row INSERTs
 * sized under max_allowed_packet, sent while the next one is built. Never one INSERT per row. LOAD DATA LOCAL
 * turns value errors into warnings (the server cannot stop the client's upload), so any warning or skipped
 * row fails the load, and the caller rolls it back.
 */
import { Readable } from "node:stream";
import type { Connection, ResultSetHeader } from "mysql2/promise";
import { TauError } from "../../server/contract";
import { convertMysqlError } from "./mysql-errors";
import type { MysqlTable } from "./mysql-tables";
import { encodeValue, quoteIdent, sqlLiteral, tsvEncoder, type ColumnClass } from "./mysql-values";
import { findTypeConflict, inferColumns, type InferredColumn, type TargetColumn } from "./rows";

type Row = Record<string, unknown>;

/** What the loader needs from a connector handle (implemented by MysqlConnector). */
export interface MysqlSession {
  /** "auto" picks LOAD DATA LOCAL when the server allows it; the others force a path (benchmarks, tests). */
  bulkPath: BulkPath;
  conn(): Promise<Connection>;
  run(sql: string, table?: string): Promise<ResultSetHeader>;
  rows<T = Row>(sql: string): Promise<T[]>;
  noteFailure(err: unknown): void;
}

export type BulkPath = "auto" | "infile" | "insert";

export interface PlannedColumn {
  /** The key in the rows. */
  key: string;
  /** The column's name in the table (the existing spelling when MySQL matched it case-insensitively). */
  sqlName: string;
  cls: ColumnClass;
  /** Type for CREATE / ADD COLUMN / the staging table. */
  sqlType: string;
  /** What the type checks compare values with. */
  target: TargetColumn;
  isNew: boolean;
  isKey: boolean;
}

const INFILE_CHUNK = 1 << 20;
const MAX_INSERT_BYTES = 8 << 20;
const serverInfo = new WeakMap<Connection, { localInfile: boolean; maxPacket: number }>();

// ── the bulk path ────────────────────────────────────────────────────────────────────────────────────

/** Writes `first` and the rest of `it` into `targetSql`; resolves to the rows written. The caller owns the transaction. */
export async function writeRows(
  s: MysqlSession,
  targetSql: string,
  table: MysqlTable,
  columns: PlannedColumn[],
  first: Row[],
  it: AsyncIterator<Row[]>,
): Promise<number> {
  const c = await s.conn();
  const info = await serverInfoOf(s, c);
  const useInfile = s.bulkPath === "infile" || (s.bulkPath === "auto" && info.localInfile);
  if (!useInfile) return writeInserts(s, c, info.maxPacket, targetSql, table, columns, first, it);
  const state = { started: false };
  try {
    return await writeInfile(s, c, targetSql, table, columns, first, it, state);
  } catch (err) {
    // The server refused LOAD DATA LOCAL before reading any row (local_infile off for this client, or a
    // proxy that does not pass it): remember that, and send the same rows as INSERTs instead.
    const code = err instanceof TauError ? err.details.mysqlCode : undefined;
    if (s.bulkPath !== "auto" || state.started || typeof code !== "string" || !INFILE_REFUSED.has(code)) throw err;
    info.localInfile = false;
    return writeInserts(s, c, info.maxPacket, targetSql, table, columns, first, it);
  }
}

const INFILE_REFUSED = new Set(["ER_NOT_ALLOWED_COMMAND", "ER_LOAD_INFILE_CAPABILITY_DISABLED", "ER_CLIENT_LOCAL_FILES_DISABLED", "ER_OPTION_PREVENTS_STATEMENT"]);

async function serverInfoOf(s: MysqlSession, c: Connection): Promise<{ localInfile: boolean; maxPacket: number }> {
  let info = serverInfo.get(c);
  if (!info) {
    const [row] = await s.rows<{ li: unknown; mp: unknown }>("SELECT @@GLOBAL.local_infile AS li, @@max_allowed_packet AS mp");
    info = { localInfile: Number(row?.li) === 1, maxPacket: Number(row?.mp) || 4 << 20 };
    serverInfo.set(c, info);
  }
  return info;
}

async function writeInfile(
  s: MysqlSession,
  c: Connection,
  targetSql: string,
  table: MysqlTable,
  columns: PlannedColumn[],
  first: Row[],
  it: AsyncIterator<Row[]>,
  state: { started: boolean },
): Promise<number> {
  let count = 0;
  let sourceError: unknown = null;
  const names = columns.map((col) => col.key);
  const encoders = columns.map((col) => tsvEncoder(col.cls, col.target.type));
  const width = names.length;
  async function* chunks(): AsyncGenerator<Buffer> {
    state.started = true;
    try {
      let batch: Row[] | null = first;
      let offset = 0;
      while (batch) {
        // Values are checked while they are encoded; later batches are also checked for unknown fields.
        if (offset > 0) checkFields(batch, columns, table, offset);
        let text = "";
        for (let r = 0; r < batch.length; r++) {
          const row = batch[r];
          let line = "";
          for (let i = 0; i < width; i++) {
            const v = row[names[i]];
            const field = encoders[i](v);
            if (field === undefined) throw mismatch(columns[i], table, offset + r, v);
            line += i === 0 ? field : `\t${field}`;
          }
          text += `${line}\n`;
          if (text.length >= INFILE_CHUNK) {
            yield Buffer.from(text, "utf8");
            text = "";
          }
        }
        if (text.length > 0) yield Buffer.from(text, "utf8");
        count += batch.length;
        offset += batch.length;
        batch = await nextBatch(it);
      }
    } catch (err) {
      sourceError = err;
      throw err;
    }
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  const sql =
    `LOAD DATA LOCAL INFILE 'tau-rows.tsv' INTO TABLE ${targetSql} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns.map((col) => quoteIdent(col.sqlName)).join(", ")})`;
  let result: ResultSetHeader;
  try {
    const [r] = await c.query({ sql, infileStreamFactory: () => stream });
    result = r as ResultSetHeader;
  } catch (err) {
    stream.destroy();
    if (sourceError !== null) throw sourceError;
    s.noteFailure(err);
    throw convertMysqlError(err, { sql: truncate(sql), table: table.text });
  }
  if (sourceError !== null) throw sourceError;
  const skipped = Number(/Skipped:\s*(\d+)/.exec(result.info ?? "")?.[1] ?? 0);
  if ((result.warningStatus ?? 0) > 0 || skipped > 0) {
    const err = await warningError(s, table, skipped, result.warningStatus ?? 0);
    if (err) throw err;
  }
  return count;
}

async function writeInserts(
  s: MysqlSession,
  c: Connection,
  maxPacket: number,
  targetSql: string,
  table: MysqlTable,
  columns: PlannedColumn[],
  first: Row[],
  it: AsyncIterator<Row[]>,
): Promise<number> {
  const limit = Math.max(16 << 10, Math.min(MAX_INSERT_BYTES, maxPacket - 4096));
  const prefix = `INSERT INTO ${targetSql} (${columns.map((col) => quoteIdent(col.sqlName)).join(", ")}) VALUES `;
  const classes = columns.map((col) => col.cls);
  const names = columns.map((col) => col.key);
  let pending: Promise<unknown> | null = null;
  let failure: unknown = null;
  const send = async (sql: string): Promise<void> => {
    // The previous statement runs on the server while this one was being built.
    if (pending) await pending;
    if (failure !== null) throw failure;
    pending = c.query(sql).then(
      () => undefined,
      (err: unknown) => {
        s.noteFailure(err);
        failure = convertMysqlError(err, { sql: truncate(sql), table: table.text });
      },
    );
  };
  let count = 0;
  let offset = 0;
  let batch: Row[] | null = first;
  let checked = true;
  let sql = prefix;
  while (batch) {
    if (!checked) checkBatch(batch, null, columns, table, offset, true);
    for (let r = 0; r < batch.length; r++) {
      const row = batch[r];
      let tuple = "(";
      for (let i = 0; i < names.length; i++) {
        if (i > 0) tuple += ",";
        const v = row[names[i]];
        tuple += sqlLiteral(encodeValue(v, classes[i]), classes[i], v);
      }
      tuple += ")";
      if (prefix.length + tuple.length > limit) {
        throw new TauError("TAU_E_CONNECTOR_QUERY_FAILED", `Row ${offset + r} is larger than the server's max_allowed_packet (${maxPacket} bytes).`, {
          table: table.text,
          row: offset + r,
        }, "Raise max_allowed_packet on the server, or load smaller values.");
      }
      if (sql.length + tuple.length + 1 > limit) {
        await send(sql);
        sql = prefix;
      }
      sql += sql.length === prefix.length ? tuple : `,${tuple}`;
    }
    count += batch.length;
    offset += batch.length;
    batch = await nextBatch(it);
    checked = false;
  }
  if (sql.length > prefix.length) await send(sql);
  if (pending) await pending;
  if (failure !== null) throw failure;
  return count;
}

/**
 * The first warning of a LOAD DATA LOCAL (which demotes errors to warnings) as one error; null when the server
 * only left notes (e.g. a timestamp's time dropped into a DATE column) and skipped no row.
 */
async function warningError(s: MysqlSession, table: MysqlTable, skipped: number, count: number): Promise<TauError | null> {
  const listed = await s.rows<{ Level: string; Code: number; Message: string }>("SHOW WARNINGS LIMIT 64").catch(() => []);
  const warnings = listed.filter((x) => x.Level !== "Note");
  if (warnings.length === 0 && skipped === 0 && listed.length > 0 && listed.length >= Math.min(count, 64)) return null;
  const w = warnings[0];
  if (!w && skipped === 0) {
    return new TauError("TAU_E_CONNECTOR_QUERY_FAILED", `LOAD DATA left ${count} warnings that could not be read; the load was rolled back.`, { table: table.text });
  }
  if (!w) {
    return new TauError("TAU_E_CONNECTOR_CONSTRAINT", `${skipped} rows were skipped by the server (duplicates of a unique key); the load was rolled back.`, {
      table: table.text,
      skipped,
    });
  }
  const name = WARNING_NAMES[Number(w.Code)] ?? "ER_UNKNOWN";
  const err = convertMysqlError({ code: name, errno: Number(w.Code), sqlMessage: String(w.Message) }, { table: table.text });
  if (err.code === "TAU_E_CONNECTOR_QUERY_FAILED" && skipped > 0) {
    return new TauError("TAU_E_CONNECTOR_CONSTRAINT", `${String(w.Message)} (${skipped} rows skipped); the load was rolled back.`, { ...err.details, skipped });
  }
  return err;
}

const WARNING_NAMES: Record<number, string> = {
  1048: "ER_BAD_NULL_ERROR",
  1062: "ER_DUP_ENTRY",
  1261: "WARN_DATA_TRUNCATED",
  1262: "WARN_DATA_TRUNCATED",
  1263: "ER_BAD_NULL_ERROR",
  1264: "ER_WARN_DATA_OUT_OF_RANGE",
  1265: "WARN_DATA_TRUNCATED",
  1292: "ER_TRUNCATED_WRONG_VALUE",
  1366: "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD",
  1406: "ER_DATA_TOO_LONG",
  1452: "ER_NO_REFERENCED_ROW_2",
  3819: "ER_CHECK_CONSTRAINT_VIOLATED",
  4025: "ER_CONSTRAINT_FAILED",
};

// ── checks ───────────────────────────────────────────────────────────────────────────────────────────

/**
 * A batch against the planned columns: every value must fit its column (rows.ts's findTypeConflict), an
 * upsert's key columns need a value, and later batches (from a cursor) bring no field the first lacked.
 */
export function checkBatch(batch: Row[], inferred: InferredColumn[] | null, columns: PlannedColumn[], table: MysqlTable, offset: number, later: boolean): void {
  if (later) {
    const known = new Set(columns.map((c) => c.key));
    for (let r = 0; r < batch.length; r++) {
      const row = batch[r];
      if (typeof row !== "object" || row === null || Array.isArray(row)) {
        throw argsInvalid(`Row ${offset + r} is not an object; load takes objects (one per row).`, { row: offset + r });
      }
      for (const k in row) {
        if (!known.has(k)) {
          throw argsInvalid(`Row ${offset + r} has a field '${k}' that the first batch did not have; one load takes one set of fields.`, {
            row: offset + r,
            column: k,
            table: table.text,
          });
        }
      }
    }
  }
  const conflict = findTypeConflict(batch, inferred ?? inferColumns(batch), columns.map((c) => c.target), table.text, offset);
  if (conflict) throw conflict;
  const keyCols = columns.filter((c) => c.isKey);
  for (const col of keyCols) {
    for (let r = 0; r < batch.length; r++) {
      const v = batch[r][col.key];
      if (v === null || v === undefined) {
        throw argsInvalid(`Row ${offset + r} has no value for mergeKey column '${col.key}'.`, { row: offset + r, column: col.key, table: table.text },
          "Every row of an upsert needs its key; filter out rows without one.");
      }
    }
  }
}

/** Later batches: rows are objects, bring no unknown field, and have their upsert keys. */
function checkFields(batch: Row[], columns: PlannedColumn[], table: MysqlTable, offset: number): void {
  const known = new Set(columns.map((c) => c.key));
  const keyCols = columns.filter((c) => c.isKey);
  for (let r = 0; r < batch.length; r++) {
    const row = batch[r];
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw argsInvalid(`Row ${offset + r} is not an object; load takes objects (one per row).`, { row: offset + r });
    }
    for (const k in row) {
      if (!known.has(k)) {
        throw argsInvalid(`Row ${offset + r} has a field '${k}' that the first batch did not have; one load takes one set of fields.`, {
          row: offset + r,
          column: k,
          table: table.text,
        });
      }
    }
    for (const col of keyCols) {
      if (row[col.key] === null || row[col.key] === undefined) {
        throw argsInvalid(`Row ${offset + r} has no value for mergeKey column '${col.key}'.`, { row: offset + r, column: col.key, table: table.text },
          "Every row of an upsert needs its key; filter out rows without one.");
      }
    }
  }
}

function mismatch(col: PlannedColumn, table: MysqlTable, row: number, value: unknown): TauError {
  const shown = typeof value === "string" ? `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}` : typeof value === "object" ? (Array.isArray(value) ? "an array" : "an object") : `the ${typeof value} ${String(value)}`;
  return new TauError(
    "TAU_E_CONNECTOR_TYPE_MISMATCH",
    `Column '${col.sqlName}' of ${table.text} is ${col.sqlType}; row ${row} has ${shown}, which does not fit. Nothing was loaded.`,
    { column: col.sqlName, columnType: col.sqlType, row, table: table.text },
    `Convert '${col.sqlName}' in the rows, or change the column's type (ALTER TABLE), or load into another table.`,
  );
}
// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

export async function nextBatch(it: AsyncIterator<Row[]>): Promise<Row[] | null> {
  for (;;) {
    const r = await it.next();
    if (r.done) return null;
    if (!Array.isArray(r.value)) throw argsInvalid("load's source yielded something that is not a batch of rows.");
    if (r.value.length > 0) return r.value;
  }
}

function argsInvalid(message: string, details: Record<string, unknown> = {}, hint?: string): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details, hint);
}

function truncate(sql: string, max = 500): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}… [truncated]`;
}
