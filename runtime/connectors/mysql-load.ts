/**
 * `load` for mysql: a RowSource (plain rows, or batches from a cursor of any connector) into a table.
 *
 * MySQL's DDL commits implicitly, so the order matters for "a failed load leaves the target as it was":
 *   1. read the first batch, infer column kinds, read the target's columns, and check every value of the
 *      batch against its column's type (and, for upsert, the mergeKey and the table's unique key) — a
 *      rejected load has changed nothing yet;
 *   2. DDL: create the missing table (upsert: with PRIMARY KEY on mergeKey) or ADD COLUMN the new fields;
 *   3. data, inside one transaction:
 *      - append: the rows go straight into the table (the bulk path); failure → ROLLBACK (and DROP of a
 *        table this load created);
 *      - replace: a new table (`CREATE TABLE … LIKE`, so indexes and defaults carry over) is filled, then
 *        swapped in with one atomic `RENAME TABLE t TO old, new TO t` and the old one dropped — readers see
 *        the old rows or the new ones; failure → the new table is dropped;
 *      - upsert: the rows go to a temporary staging table (with a sequence column), then one
 *        `INSERT … SELECT … ORDER BY seq ON DUPLICATE KEY UPDATE`: idempotent, and of duplicate keys within
 *        one load the last row wins.
 *   Columns added in step 2 stay (nullable, empty) when step 3 fails: error.details.addedColumns lists them.
 *
 * The bulk path and the per-batch checks are in mysql-bulk.ts.
 */
import { TauError } from "../../server/contract";
import { convertMysqlError } from "./mysql-errors";
import { describeColumns, parseMysqlTable, type DescribedColumn, type MysqlTable } from "./mysql-tables";
import { checkBatch, nextBatch, writeRows, type MysqlSession, type PlannedColumn } from "./mysql-bulk";
import { classOfColumn, classOfLogical, mysqlTypeFor, quoteIdent } from "./mysql-values";
import { checkMergeKey, findColumn, inferColumns, logicalTypeOf } from "./rows";
import type { LoadRequest, RowSource } from "./types";

type Row = Record<string, unknown>;

export type { BulkPath, MysqlSession } from "./mysql-bulk";

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
  try {
    await s.run("START TRANSACTION");
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
  try {
    // A temporary table is private to this session and does not commit the transaction around it.
    await s.run(
      `CREATE TEMPORARY TABLE ${stage.sql} (${seq} BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, ` +
        `${columns.map((c) => `${quoteIdent(c.sqlName)} ${c.sqlType} NULL`).join(", ")})`,
    );
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
      throw err;
    }
  } catch (err) {
    if (created) await s.run(`DROP TABLE IF EXISTS ${table.sql}`).catch(() => undefined);
    throw annotate(err, table, added);
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

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

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
