/**
 * Table names and columns for mysql: `table` or `database.table` (backquotes for other names), and the
 * columns information_schema lists — with MariaDB's JSON columns (LONGTEXT + a json_valid check) marked.
 */
import { TauError } from "../../server/contract";
import { quoteIdent } from "./mysql-values";

/** Runs a query returning rows (a MysqlConnector). */
export interface RowQuerier {
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export interface MysqlTable {
  /** As the guest wrote it. */
  text: string;
  database: string | null;
  name: string;
  /** Quoted, qualified, for SQL. */
  sql: string;
}

const IDENT = /^[A-Za-z0-9_$]+$/;

/** Parses `table` or `database.table`; parts are bare identifiers or `backquoted`. */
export function parseMysqlTable(value: unknown): MysqlTable {
  if (typeof value !== "string" || value.length === 0 || value.length > 300) {
    throw argsInvalid('The table name must be a non-empty string like "orders" or "analytics.orders".');
  }
  const parts: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === "`") {
      let j = i + 1;
      let part = "";
      for (;;) {
        if (j >= value.length) throw argsInvalid(`Unterminated quote in table name ${JSON.stringify(value)}.`);
        if (value[j] === "`") {
          if (value[j + 1] === "`") {
            part += "`";
            j += 2;
            continue;
          }
          break;
        }
        part += value[j++];
      }
      parts.push(part);
      i = j + 1;
    } else {
      const end = value.indexOf(".", i);
      const part = value.slice(i, end === -1 ? value.length : end);
      if (!IDENT.test(part)) throw argsInvalid(`Invalid table name ${JSON.stringify(value)}: use letters, digits, '_' and '$' (quote other names with \`…\`).`);
      parts.push(part);
      i = end === -1 ? value.length : end;
    }
    if (i >= value.length) break;
    if (value[i] !== ".") throw argsInvalid(`Invalid table name ${JSON.stringify(value)}.`);
    i++;
    if (i >= value.length) throw argsInvalid(`Invalid table name ${JSON.stringify(value)}.`);
  }
  if (parts.length === 0 || parts.length > 2 || parts.some((p) => p === "" || p.length > 64)) {
    throw argsInvalid(`Invalid table name ${JSON.stringify(value)}: use table or database.table (at most 64 characters each).`);
  }
  const database = parts.length === 2 ? parts[0] : null;
  const name = parts[parts.length - 1];
  return { text: value, database, name, sql: parts.map(quoteIdent).join(".") };
}

export interface DescribedColumn {
  name: string;
  dataType: string;
  columnType: string;
  nullable: boolean;
  isJson: boolean;
}

/** The table's columns in order (empty when it does not exist); MariaDB JSON = LONGTEXT + json_valid check. */
export async function describeColumns(session: RowQuerier, table: MysqlTable): Promise<DescribedColumn[]> {
  const schema = table.database === null ? "DATABASE()" : quoteStringLiteral(table.database);
  const name = quoteStringLiteral(table.name);
  const cols = await session.rows<{ name: string; dataType: string; columnType: string; nullable: string }>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable FROM information_schema.COLUMNS ` +
      `WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${name} ORDER BY ORDINAL_POSITION`,
  );
  if (cols.length === 0) return [];
  const jsonCols = new Set<string>();
  if (cols.some((c) => String(c.dataType).toLowerCase() === "longtext")) {
    const checks = await session
      .rows<{ clause: string }>(
        `SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ${schema} AND TABLE_NAME = ${name}`,
      )
      .catch(() => [] as Array<{ clause: string }>);
    for (const c of checks) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(c.clause).trim());
      if (m) jsonCols.add(m[1].replace(/``/g, "`").toLowerCase());
    }
  }
  return cols.map((c) => ({
    name: String(c.name),
    dataType: String(c.dataType),
    columnType: String(c.columnType),
    nullable: c.nullable === "YES",
    isJson: String(c.dataType).toLowerCase() === "json" || jsonCols.has(String(c.name).toLowerCase()),
  }));
}

function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}

function quoteStringLiteral(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}
