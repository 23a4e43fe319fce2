/**
 * The SQL `load` generates for PostgreSQL and for Redshift, as pure functions (golden-tested in
 * test/runtime/connectors-redshift-sql.test.ts). The two dialects differ where Redshift lacks PostgreSQL
 * features: no `COPY FROM STDIN` (Redshift copies from S3), no `ON CONFLICT` (upsert is a staged `MERGE`),
 * no `DISTINCT ON` (deduplication uses `ROW_NUMBER()`), no `ON COMMIT DROP`, and `TRUNCATE` commits the
 * transaction it runs in (replace uses `DELETE`).
 */
import { TauError } from "../../server/contract";
import { POSTGRES_TYPES, type DialectTypeMap, type InferredColumn } from "./rows";
import { REDSHIFT_TYPES } from "./postgres-values";

export interface PgTableName {
  /** As the guest wrote it. */
  text: string;
  /** Unquoted schema, or null for the first schema of the search path. */
  schema: string | null;
  /** Unquoted table name. */
  name: string;
  /** Quoted and qualified, for SQL. */
  sql: string;
  /** Quoted schema, or null. */
  schemaSql: string | null;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function tableArgsInvalid(value: string): TauError {
  return new TauError(
    "TAU_E_CONNECTOR_ARGS_INVALID",
    `Invalid table name ${JSON.stringify(value.slice(0, 200))}: use table or schema.table; quote other names with "…".`,
    { table: value.slice(0, 200) },
  );
}

/**
 * Parses `table` or `schema.table`. Bare parts fold to lower case, as PostgreSQL folds unquoted identifiers;
 * "Quoted" parts keep their case.
 */
export function parsePgTableName(value: unknown): PgTableName {
  if (typeof value !== "string" || value.trim() === "" || value.length > 512) {
    throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", 'The table name must be a non-empty string like "orders" or "analytics.orders".');
  }
  const parts: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === '"') {
      let part = "";
      let j = i + 1;
      for (;;) {
        if (j >= value.length) throw tableArgsInvalid(value);
        if (value[j] === '"') {
          if (value[j + 1] === '"') {
            part += '"';
            j += 2;
            continue;
          }
          break;
        }
        part += value[j++];
      }
      if (part === "") throw tableArgsInvalid(value);
      parts.push(part);
      i = j + 1;
    } else {
      const end = value.indexOf(".", i);
      const part = value.slice(i, end === -1 ? value.length : end).trim();
      if (!IDENT.test(part)) throw tableArgsInvalid(value);
      parts.push(part.toLowerCase());
      i = end === -1 ? value.length : end;
    }
    if (i >= value.length) break;
    if (value[i] !== ".") throw tableArgsInvalid(value);
    i++;
    if (i >= value.length) throw tableArgsInvalid(value);
  }
  if (parts.length === 0 || parts.length > 2) throw tableArgsInvalid(value);
  const schema = parts.length === 2 ? parts[0] : null;
  const name = parts[parts.length - 1];
  const schemaSql = schema === null ? null : quoteIdent(schema);
  return { text: value, schema, name, sql: schemaSql === null ? quoteIdent(name) : `${schemaSql}.${quoteIdent(name)}`, schemaSql };
}

/** Columns of a table, in order: `$1` = schema or null (current schema), `$2` = table. Both dialects. */
export const DESCRIBE_TABLE_SQL =
  "SELECT column_name, data_type, is_nullable, character_maximum_length, numeric_precision, numeric_scale, udt_name " +
  "FROM information_schema.columns WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2 ORDER BY ordinal_position";

export interface DescribedColumnRow {
  column_name: string;
  data_type: string;
  is_nullable: string;
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  udt_name: string;
}

/** A readable type name from information_schema: "CHARACTER VARYING(255)", "NUMERIC(12,2)", "INT4[]". */
export function typeNameOf(r: DescribedColumnRow): string {
  const t = r.data_type.toUpperCase();
  if (t === "ARRAY") return `${r.udt_name.replace(/^_/, "").toUpperCase()}[]`;
  if (t === "USER-DEFINED") return r.udt_name;
  if ((t === "CHARACTER VARYING" || t === "CHARACTER") && r.character_maximum_length !== null) return `${t}(${r.character_maximum_length})`;
  if (t === "NUMERIC" && r.numeric_precision !== null) return `NUMERIC(${r.numeric_precision},${r.numeric_scale ?? 0})`;
  return t;
}

/** The name staged rows carry their order in (last wins when a key repeats). */
export const SEQ_COLUMN = "__tau_seq";

export interface PgDialect {
  readonly kind: "postgres" | "redshift";
  readonly types: DialectTypeMap;
  createSchema(table: PgTableName): string | null;
  /** `primaryKey`: the upsert's mergeKey, made the table's key when load creates it. */
  createTable(table: PgTableName, columns: readonly InferredColumn[], primaryKey: readonly string[] | null): string;
  addColumn(table: PgTableName, column: InferredColumn): string;
  /** Empties the target inside the load's transaction (replace). */
  clearTable(table: PgTableName): string;
  /** A temporary table with the sequence column and the target's own types for `columns`. */
  createStage(stage: string, table: PgTableName, columns: readonly string[]): string;
  /** Statements that merge the staged rows into the target (last staged row wins per key), then clean up. */
  merge(table: PgTableName, stage: string, columns: readonly string[], key: readonly string[]): string[];
}

const colList = (columns: readonly string[], prefix = ""): string => columns.map((c) => prefix + quoteIdent(c)).join(", ");

function createTableSql(types: DialectTypeMap, table: PgTableName, columns: readonly InferredColumn[], primaryKey: readonly string[] | null): string {
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${types[c.type]}`);
  if (primaryKey && primaryKey.length > 0) defs.push(`PRIMARY KEY (${colList(primaryKey)})`);
  return `CREATE TABLE IF NOT EXISTS ${table.sql} (${defs.join(", ")})`;
}

function stageFromTarget(stage: string, table: PgTableName, columns: readonly string[], onCommitDrop: boolean): string {
  return (
    `CREATE TEMP TABLE ${quoteIdent(stage)}${onCommitDrop ? " ON COMMIT DROP" : ""} AS ` +
    `SELECT CAST(NULL AS BIGINT) AS ${quoteIdent(SEQ_COLUMN)}, ${colList(columns)} FROM ${table.sql} WHERE 1 = 0`
  );
}

export const POSTGRES_DIALECT: PgDialect = {
  kind: "postgres",
  types: POSTGRES_TYPES,
  createSchema: (table) => (table.schemaSql ? `CREATE SCHEMA IF NOT EXISTS ${table.schemaSql}` : null),
  createTable: (table, columns, primaryKey) => createTableSql(POSTGRES_TYPES, table, columns, primaryKey),
  addColumn: (table, column) => `ALTER TABLE ${table.sql} ADD COLUMN ${quoteIdent(column.name)} ${POSTGRES_TYPES[column.type]}`,
  // TRUNCATE in the load's transaction: readers wait on its lock until COMMIT, then see the new rows
  // (see docs/connectors-postgres.md for why not build-and-swap or DELETE).
  clearTable: (table) => `TRUNCATE TABLE ${table.sql}`,
  createStage: (stage, table, columns) => stageFromTarget(stage, table, columns, true),
  merge: (table, stage, columns, key) => {
    const rest = columns.filter((c) => !key.includes(c));
    const deduped = `SELECT DISTINCT ON (${colList(key)}) ${colList(columns)} FROM ${quoteIdent(stage)} ORDER BY ${colList(key)}, ${quoteIdent(SEQ_COLUMN)} DESC`;
    const action = rest.length === 0 ? "DO NOTHING" : `DO UPDATE SET ${rest.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(", ")}`;
    return [`INSERT INTO ${table.sql} (${colList(columns)}) ${deduped} ON CONFLICT (${colList(key)}) ${action}`];
  },
};

export const REDSHIFT_DIALECT: PgDialect = {
  kind: "redshift",
  types: REDSHIFT_TYPES,
  createSchema: (table) => (table.schemaSql ? `CREATE SCHEMA IF NOT EXISTS ${table.schemaSql}` : null),
  // Redshift accepts PRIMARY KEY but does not enforce it (the planner uses it as a hint); MERGE needs no index.
  createTable: (table, columns, primaryKey) => createTableSql(REDSHIFT_TYPES, table, columns, primaryKey),
  addColumn: (table, column) => `ALTER TABLE ${table.sql} ADD COLUMN ${quoteIdent(column.name)} ${REDSHIFT_TYPES[column.type]}`,
  // TRUNCATE commits the current transaction on Redshift: DELETE keeps replace atomic.
  clearTable: (table) => `DELETE FROM ${table.sql}`,
  createStage: (stage, table, columns) => stageFromTarget(stage, table, columns, false),
  merge: (table, stage, columns, key) => {
    const deduped = `${stage}_d`;
    const rest = columns.filter((c) => !key.includes(c));
    // MERGE fails when two source rows match one target row: keep the last staged row per key.
    const dedupe =
      `CREATE TEMP TABLE ${quoteIdent(deduped)} AS SELECT ${colList(columns)} FROM (` +
      `SELECT ${colList(columns)}, ROW_NUMBER() OVER (PARTITION BY ${colList(key)} ORDER BY ${quoteIdent(SEQ_COLUMN)} DESC) AS "__tau_rn" ` +
      `FROM ${quoteIdent(stage)}) AS ranked WHERE "__tau_rn" = 1`;
    const on = key.map((k) => `"__tau_t".${quoteIdent(k)} = "__tau_s".${quoteIdent(k)}`).join(" AND ");
    const set = (rest.length > 0 ? rest : key).map((c) => `${quoteIdent(c)} = "__tau_s".${quoteIdent(c)}`).join(", ");
    const merge =
      `MERGE INTO ${table.sql} AS "__tau_t" USING ${quoteIdent(deduped)} AS "__tau_s" ON ${on} ` +
      `WHEN MATCHED THEN UPDATE SET ${set} ` +
      `WHEN NOT MATCHED THEN INSERT (${colList(columns)}) VALUES (${colList(columns, '"__tau_s".')})`;
    return [dedupe, merge, `DROP TABLE ${quoteIdent(deduped)}`, `DROP TABLE ${quoteIdent(stage)}`];
  },
};

/**
 * One multi-row INSERT for Redshift's append path: `rowCount` rows of `columns` as bind parameters
 * ($1, $2, …); JSON columns go through JSON_PARSE into SUPER. With `withSeq` the first value of each row is
 * the staging sequence number, also a parameter.
 */
export function insertValuesSql(target: string, columns: readonly string[], jsonColumns: ReadonlySet<string>, rowCount: number, withSeq: boolean): string {
  const names = withSeq ? [SEQ_COLUMN, ...columns] : [...columns];
  const wrap = names.map((c) => (jsonColumns.has(c) ? (p: string): string => `JSON_PARSE(${p})` : (p: string): string => p));
  const tuples: string[] = [];
  let p = 1;
  for (let r = 0; r < rowCount; r++) {
    const values: string[] = [];
    for (let i = 0; i < names.length; i++) values.push(wrap[i](`$${p++}`));
    tuples.push(`(${values.join(", ")})`);
  }
  return `INSERT INTO ${target} (${colList(names)}) VALUES ${tuples.join(", ")}`;
}
