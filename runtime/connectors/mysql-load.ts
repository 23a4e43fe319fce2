/**
 * `load` for mysql: a RowSource (plain rows, or batches from a cursor of any connector) into a table.
 *
 * MySQL's DDL commits implicitly, so the order matters for "a failed load leaves the target as it was":
 *   1. read the first batch, infer column kinds, read the target's columns, and check every value of the
 *      batch against its column's type (and, for upsert, the mergeKey and the table's unique key) — a
 *      rejected load has changed nothing yet;
 *   2. DDL: create the missing table (upsert: with PRIMARY KEY on mergeKey) or ADD COLUMN the new fields;
 *   3. data, inside one transaction:
 *      - append: the rows go straight into the table (bulk path below); failure → ROLLBACK (and DROP of a
 *        table this load created);
 *      - replace: a new table (`CREATE TABLE … LIKE`, so indexes and defaults carry over) is filled, then
 *        swapped in with one atomic `RENAME TABLE t TO old, new TO t` and the old one dropped — readers see
 *        the old rows or the new ones; failure → the new table is dropped;
 *      - upsert: the rows go to a temporary staging table (with a sequence column), then one
 *        `INSERT … SELECT … ORDER BY seq ON DUPLICATE KEY UPDATE`: idempotent, and of duplicate keys within
 *        one load the last row wins.
 *   Columns added in step 2 stay (nullable, empty) when step 3 fails: error.details.addedColumns lists them.
 *
 * Bulk path: `LOAD DATA LOCAL INFILE` fed by a stream built from the batches (mysql2's infileStreamFactory;
 * one statement for the whole source, memory flat), when the server allows local_infile; else multi-row
 * INSERTs sized under max_allowed_packet, sent while the next one is built. Never one INSERT per row.
 * LOAD DATA LOCAL turns value errors into warnings (the server cannot stop the client's upload), so any
 * warning or skipped row fails the load and rolls it back.
 */
import { Readable } from "node:stream";
import type { Connection, ResultSetHeader } from "mysql2/promise";
import { TauError } from "../../server/contract";
import { convertMysqlError } from "./mysql-errors";
import { describeColumns, parseMysqlTable, type DescribedColumn, type MysqlTable } from "./mysql-tables";
import { classOfColumn, classOfLogical, encodeValue, mysqlTypeFor, quoteIdent, sqlLiteral, tsvEncoder, type ColumnClass } from "./mysql-values";
import { checkMergeKey, findColumn, findTypeConflict, inferColumns, logicalTypeOf, type InferredColumn, type TargetColumn } from "./rows";
import type { LoadRequest, RowSource } from "./types";

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

interface PlannedColumn {
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
let sideCounter = 0;

/** Loads `source` into `request.table`; resolves to the number of rows loaded. Throws TauError only. */
export async function loadIntoMysql(s: MysqlSession, source: RowSource, request: LoadRequest): Promise<number> {
  const table = parseMysqlTable(request.table);
  const keys = request.mode === "upsert" ? request.mergeKey : null;
  if (request.mode === "upsert" && (!keys || keys.length === 0)) {
    throw argsInvalid('load mode "upsert" needs mergeKey: the column (or list of columns) that identifies a row.', { table: table.text, option: "mergeKey" },
      'Pass e.g. { table: "orders", mode: "upsert", mergeKey: "id" } or mergeKey: ["tenant", "id"].');
  }
  const it = source[Symbol.asyncIterator]();
  const first = await nextBatch(it);
  if (!first) {
    if (request.mode === "replace") await replaceWithNothing(s, table);
    return 0;
  }
  const inferred = inferColumns(first);
  checkMergeKey(request, inferred);
  const existing = await describeColumns(s, table);
  const keySet = new Set((keys ?? []).map((k) => findColumn(inferred, k)!.name));
  const textKeys = inferred.filter((c) => keySet.has(c.name) && (c.type === "text" || c.type === "json")).length;
  const keyTextLength = Math.max(64, Math.floor(768 / Math.max(1, textKeys)));
  const columns: PlannedColumn[] = inferred.map(({ name, type }) => {
    const ex = findColumn(existing, name);
    const isKey = keySet.has(name);
    if (ex) {
      return {
        key: name,
        sqlName: ex.name,
        cls: classOfColumn(ex.dataType, ex.columnType, ex.isJson),
        sqlType: ex.columnType,
        target: { name: ex.name, sqlType: ex.columnType, type: ex.isJson ? "json" : logicalTypeOf(ex.columnType) },
        isNew: false,
        isKey,
      };
    }
    const sqlType = mysqlTypeFor(type, isKey ? keyTextLength : null);
    return { key: name, sqlName: name, cls: classOfLogical(type), sqlType, target: { name, sqlType, type }, isNew: true, isKey };
  });
  for (const c of columns) {
    if (c.sqlName.length > 64) throw argsInvalid(`Field name '${c.key.slice(0, 80)}…' is longer than MySQL's 64-character limit for column names.`, { column: c.key });
  }
  // Everything that can reject the load is checked before the first DDL statement.
  checkBatch(first, inferred, columns, table, 0, false);
  if (keys && existing.length > 0) await requireUniqueKey(s, table, [...keySet], existing);
  const added = existing.length > 0 ? columns.filter((c) => c.isNew) : [];

  switch (request.mode) {
    case "append":
      return appendRows(s, table, columns, first, it, existing.length === 0, added);
    case "replace":
      return replaceRows(s, table, columns, first, it, existing.length > 0, added);
    case "upsert":
      return upsertRows(s, table, columns, first, it, [...keySet], existing.length === 0, added);
  }
}

async function appendRows(
  s: MysqlSession,
  table: MysqlTable,
  columns: PlannedColumn[],
  first: Row[],
  it: AsyncIterator<Row[]>,
  create: boolean,
  added: PlannedColumn[],
): Promise<number> {
  const created = create ? await createTable(s, table.sql, table, columns, null) : false;
  if (added.length > 0) await addColumns(s, table, added);
  await s.run("START TRANSACTION");
  try {
    const n = await writeRows(s, table.sql, table, columns, first, it);
    await s.run("COMMIT", table.text);
    return n;
  } catch (err) {
    await s.run("ROLLBACK").catch(() => undefined);
    if (created) await s.run(`DROP TABLE IF EXISTS ${table.sql}`).catch(() => undefined);
    throw annotate(err, table, added);
  }
}

async function replaceRows(
  s: MysqlSession,
  table: MysqlTable,
  columns: PlannedColumn[],
  first: Row[],
  it: AsyncIterator<Row[]>,
  exists: boolean,
  added: PlannedColumn[],
): Promise<number> {
  const fresh = sideTable(table, "new");
  if (exists) {
    await s.run(`CREATE TABLE ${fresh.sql} LIKE ${table.sql}`, table.text);
  } else {
    await createTable(s, fresh.sql, table, columns, null);
  }
  try {
    if (exists && added.length > 0) await addColumns(s, fresh, added);
    await s.run("START TRANSACTION");
    let n: number;
    try {
      n = await writeRows(s, fresh.sql, table, columns, first, it);
      await s.run("COMMIT", table.text);
    } catch (err) {
      await s.run("ROLLBACK").catch(() => undefined);
      throw err;
    }
    if (exists) {
      const old = sideTable(table, "old");
      // One RENAME of both tables is atomic: readers see the old table or the new one, never neither.
      await s.run(`RENAME TABLE ${table.sql} TO ${old.sql}, ${fresh.sql} TO ${table.sql}`, table.text);
      await s.run(`DROP TABLE IF EXISTS ${old.sql}`).catch(() => undefined);
    } else {
      await s.run(`RENAME TABLE ${fresh.sql} TO ${table.sql}`, table.text);
    }
    return n;
  } catch (err) {
    await s.run(`DROP TABLE IF EXISTS ${fresh.sql}`).catch(() => undefined);
    throw annotate(err, table, []);
  }
}

async function upsertRows(
  s: MysqlSession,
  table: MysqlTable,
  columns: PlannedColumn[],
  first: Row[],
  it: AsyncIterator<Row[]>,
  keys: string[],
  create: boolean,
  added: PlannedColumn[],
): Promise<number> {
  const keyCols = keys.map((k) => columns.find((c) => c.key === k)!);
  const created = create ? await createTable(s, table.sql, table, columns, keyCols) : false;
  if (added.length > 0) await addColumns(s, table, added);
  const stage = sideTable(table, "stage", true);
  const seq = quoteIdent("__tau_seq");
  // A temporary table is private to this session and does not commit the transaction around it.
  await s.run(
    `CREATE TEMPORARY TABLE ${stage.sql} (${seq} BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, ` +
      `${columns.map((c) => `${quoteIdent(c.sqlName)} ${c.sqlType} NULL`).join(", ")})`,
  );
  try {
    await s.run("START TRANSACTION");
    try {
      const n = await writeRows(s, stage.sql, table, columns, first, it);
      const names = columns.map((c) => quoteIdent(c.sqlName)).join(", ");
      const others = columns.filter((c) => !c.isKey).map((c) => `${quoteIdent(c.sqlName)} = VALUES(${quoteIdent(c.sqlName)})`);
      // With only key columns there is nothing to update; assigning a key to itself keeps the row.
      const update = others.length > 0 ? others.join(", ") : `${quoteIdent(keyCols[0].sqlName)} = ${quoteIdent(keyCols[0].sqlName)}`;
      await s.run(`INSERT INTO ${table.sql} (${names}) SELECT ${names} FROM ${stage.sql} ORDER BY ${seq} ON DUPLICATE KEY UPDATE ${update}`, table.text);
      await s.run("COMMIT", table.text);
      return n;
    } catch (err) {
      await s.run("ROLLBACK").catch(() => undefined);
      if (created) await s.run(`DROP TABLE IF EXISTS ${table.sql}`).catch(() => undefined);
      throw annotate(err, table, added);
    }
  } finally {
    await s.run(`DROP TEMPORARY TABLE IF EXISTS ${stage.sql}`).catch(() => undefined);
  }
}

/** replace with no rows: swap in an empty copy, so readers never see a half-emptied table. */
async function replaceWithNothing(s: MysqlSession, table: MysqlTable): Promise<void> {
  const existing = await describeColumns(s, table);
  if (existing.length === 0) return;
  const fresh = sideTable(table, "new");
  const old = sideTable(table, "old");
  await s.run(`CREATE TABLE ${fresh.sql} LIKE ${table.sql}`, table.text);
  try {
    await s.run(`RENAME TABLE ${table.sql} TO ${old.sql}, ${fresh.sql} TO ${table.sql}`, table.text);
  } catch (err) {
    await s.run(`DROP TABLE IF EXISTS ${fresh.sql}`).catch(() => undefined);
    throw err;
  }
  await s.run(`DROP TABLE IF EXISTS ${old.sql}`).catch(() => undefined);
}

// ── DDL ──────────────────────────────────────────────────────────────────────────────────────────────

/** CREATE TABLE IF NOT EXISTS; true when this statement created it (false: a concurrent load won). */
async function createTable(s: MysqlSession, sql: string, table: MysqlTable, columns: PlannedColumn[], key: PlannedColumn[] | null): Promise<boolean> {
  const defs = columns.map((c) => `${quoteIdent(c.sqlName)} ${c.sqlType}${c.isKey ? " NOT NULL" : " NULL"}`);
  if (key) defs.push(`PRIMARY KEY (${key.map((c) => quoteIdent(c.sqlName)).join(", ")})`);
  const result = await s.run(`CREATE TABLE IF NOT EXISTS ${sql} (${defs.join(", ")}) DEFAULT CHARSET = utf8mb4`, table.text);
  return (result.warningStatus ?? 0) === 0;
}

async function addColumns(s: MysqlSession, table: MysqlTable | { sql: string; text: string }, added: PlannedColumn[]): Promise<void> {
  await s.run(`ALTER TABLE ${table.sql} ${added.map((c) => `ADD COLUMN ${quoteIdent(c.sqlName)} ${c.sqlType} NULL`).join(", ")}`, table.text);
}

async function requireUniqueKey(s: MysqlSession, table: MysqlTable, keys: string[], existing: DescribedColumn[]): Promise<void> {
  const schema = table.database === null ? "DATABASE()" : stringLiteral(table.database);
  const rows = await s.rows<{ idx: string; col: string }>(
    `SELECT INDEX_NAME AS idx, COLUMN_NAME AS col FROM information_schema.STATISTICS ` +
      `WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${stringLiteral(table.name)} AND NON_UNIQUE = 0`,
  );
  const indexes = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = indexes.get(r.idx) ?? new Set<string>();
    set.add(String(r.col).toLowerCase());
    indexes.set(r.idx, set);
  }
  const want = new Set(keys.map((k) => k.toLowerCase()));
  for (const set of indexes.values()) {
    if (set.size === want.size && [...want].every((k) => set.has(k))) return;
  }
  const cols = keys.map((k) => quoteIdent(findColumn(existing, k)?.name ?? k)).join(", ");
  throw argsInvalid(
    `upsert into ${table.text} needs a PRIMARY KEY or UNIQUE index on exactly (${keys.join(", ")}); the table has none, so ON DUPLICATE KEY UPDATE could not match rows.`,
    { table: table.text, mergeKey: keys },
    `Add one, e.g. db.execute("ALTER TABLE ${table.sql.replace(/"/g, '\\"')} ADD UNIQUE KEY (${cols})"), then load again.`,
  );
}

// ── the bulk path ────────────────────────────────────────────────────────────────────────────────────

async function writeRows(
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
  if ((result.warningStatus ?? 0) > 0 || skipped > 0) throw await warningError(s, table, skipped);
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

/** The first warnings of a LOAD DATA LOCAL (which demotes errors to warnings) as one error. */
async function warningError(s: MysqlSession, table: MysqlTable, skipped: number): Promise<TauError> {
  const warnings = await s.rows<{ Level: string; Code: number; Message: string }>("SHOW WARNINGS LIMIT 3").catch(() => []);
  const w = warnings.find((x) => x.Level !== "Note") ?? warnings[0];
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
function checkBatch(batch: Row[], inferred: InferredColumn[] | null, columns: PlannedColumn[], table: MysqlTable, offset: number, later: boolean): void {
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

async function nextBatch(it: AsyncIterator<Row[]>): Promise<Row[] | null> {
  for (;;) {
    const r = await it.next();
    if (r.done) return null;
    if (!Array.isArray(r.value)) throw argsInvalid("load's source yielded something that is not a batch of rows.");
    if (r.value.length > 0) return r.value;
  }
}

function sideTable(table: MysqlTable, suffix: string, temporary = false): { sql: string; text: string } {
  const rand = `${process.pid.toString(36)}${(++sideCounter).toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const name = temporary ? `__tau_${suffix}_${rand}` : `${table.name.slice(0, 40)}__tau_${suffix}_${rand}`.slice(0, 64);
  const sql = table.database === null ? quoteIdent(name) : `${quoteIdent(table.database)}.${quoteIdent(name)}`;
  return { sql, text: name };
}

function annotate(err: unknown, table: MysqlTable, added: PlannedColumn[]): TauError {
  const e = err instanceof TauError ? err : convertMysqlError(err, { table: table.text });
  if (added.length > 0) e.details.addedColumns = added.map((c) => c.sqlName);
  return e;
}

function argsInvalid(message: string, details: Record<string, unknown> = {}, hint?: string): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details, hint);
}

function stringLiteral(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

function truncate(sql: string, max = 500): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}… [truncated]`;
}
