/**
 * SQL text helpers shared by the DuckDB connectors (duckdb_local, motherduck): argument checks for hostile
 * guest input, parameters, and table names parsed into quoted identifiers.
 */
import type { DuckDBValue } from "@duckdb/node-api";
import { TauError } from "../../server/contract";

// ── argument validation (guest input is hostile) ──────────────────────────────────────────────────────

export function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}

export function requireSql(value: unknown, method: string): string {
  if (typeof value !== "string" || value.trim() === "") throw argsInvalid(`${method}(sql, params) needs the SQL as a non-empty string.`, { method });
  return value;
}

export function toParams(value: unknown): DuckDBValue[] | Record<string, DuckDBValue> | undefined {
  if (value === undefined || value === null) return undefined;
  const check = (v: unknown, where: string): DuckDBValue => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number" && Number.isFinite(v)) return v;
    throw argsInvalid(`Query parameter ${where} must be a string, number, boolean or null.`, { parameter: where });
  };
  if (Array.isArray(value)) return value.map((v, i) => check(v, `$${i + 1}`));
  if (typeof value === "object") {
    const out: Record<string, DuckDBValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = check(v, `$${k}`);
    return out;
  }
  throw argsInvalid("Query parameters must be an array (for $1, $2, …) or an object (for $name).");
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export interface TableName {
  /** As the guest wrote it. */
  text: string;
  /** Quoted, qualified, for SQL. */
  sql: string;
  /** Quoted schema (with catalog) when the name has one. */
  schemaSql: string | null;
  /** The unquoted parts: [table], [schema, table] or [catalog, schema, table]. */
  parts: string[];
}

/** Parses `table`, `schema.table` or `catalog.schema.table`; parts are bare identifiers or "quoted". */
export function parseTableName(value: unknown): TableName {
  if (typeof value !== "string" || value.length === 0 || value.length > 512) {
    throw argsInvalid("The table name must be a non-empty string like \"orders\" or \"analytics.orders\".");
  }
  const parts: string[] = [];
  let i = 0;
  while (i <= value.length) {
    if (value[i] === '"') {
      let j = i + 1;
      let part = "";
      for (;;) {
        if (j >= value.length) throw argsInvalid(`Unterminated quote in table name ${JSON.stringify(value)}.`);
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
      if (part === "") throw argsInvalid(`Empty part in table name ${JSON.stringify(value)}.`);
      parts.push(part);
      i = j + 1;
    } else {
      const end = value.indexOf(".", i);
      const part = value.slice(i, end === -1 ? value.length : end);
      if (!IDENT.test(part)) {
        throw argsInvalid(`Invalid table name ${JSON.stringify(value)}: use letters, digits and '_' (quote other names with "…").`);
      }
      parts.push(part);
      i = end === -1 ? value.length : end;
    }
    if (i >= value.length) break;
    if (value[i] !== ".") throw argsInvalid(`Invalid table name ${JSON.stringify(value)}.`);
    i++;
  }
  if (parts.length === 0 || parts.length > 3) throw argsInvalid(`Invalid table name ${JSON.stringify(value)}: at most catalog.schema.table.`);
  const quoted = parts.map(quoteIdent);
  return { text: value, sql: quoted.join("."), schemaSql: parts.length > 1 ? quoted.slice(0, -1).join(".") : null, parts };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function truncate(sql: string, max = 500): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}… [truncated]`;
}
