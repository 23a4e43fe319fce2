/**
 * Values between PostgreSQL/Redshift and the pipeline's JSON.
 *
 * Reading (per client, never pg's global parsers): BIGINT → number when it is a safe integer, else a decimal
 * string; NUMERIC → number when it has at most 15 significant digits, else its exact text; DATE → "YYYY-MM-DD";
 * TIMESTAMP → "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (naive, written as UTC, like duckdb_local); TIMESTAMPTZ → the
 * same in UTC (sessions run with TimeZone=UTC); JSON/JSONB → parsed; BYTEA, INTERVAL, TIME and the rest → the
 * server's text.
 *
 * Writing (load): columns are inferred by rows.ts and mapped to each dialect's types; rows are encoded for
 * `COPY … FROM STDIN` in text format (`encodeCopyRows`) or as bind parameters (`paramValue`, Redshift).
 */
import { types as pgTypes, type CustomTypesConfig } from "pg";
import type { DialectTypeMap } from "./rows";

// ── reading ─────────────────────────────────────────────────────────────────────────────────────────

const OID = {
  INT8: 20,
  NUMERIC: 1700,
  DATE: 1082,
  TIMESTAMP: 1114,
  TIMESTAMPTZ: 1184,
  BYTEA: 17,
  INTERVAL: 1186,
  MONEY: 790,
} as const;

const identity = (text: string): string => text;

function parseInt8(text: string): number | string {
  if (text.length < 16) return Number(text);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function parseNumeric(text: string): number | string {
  let digits = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (leading && c === 48) continue;
      leading = false;
      digits++;
    } else if (c !== 46 && c !== 45 && c !== 43) {
      return text; // NaN, Infinity, exponent forms
    }
  }
  return digits <= 15 ? Number(text) : text;
}

/** "2024-01-02 03:04:05.123" → "2024-01-02T03:04:05.123Z"; infinity and BC dates stay as the server wrote them. */
function parseTimestamp(text: string): string {
  if (text.length < 19 || text.charCodeAt(10) !== 32 || text.endsWith("BC")) return text;
  return `${text.slice(0, 10)}T${text.slice(11)}Z`;
}

/** With TimeZone=UTC: "2024-01-02 03:04:05.123+00" → "2024-01-02T03:04:05.123Z". */
function parseTimestampTz(text: string): string {
  if (text.length < 22 || text.charCodeAt(10) !== 32 || text.endsWith("BC")) return text;
  if (text.endsWith("+00")) return `${text.slice(0, 10)}T${text.slice(11, -3)}Z`;
  // Another zone (a server that ignored SET TIME ZONE): let Date normalise it, keeping microseconds.
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}(?::?\d{2}){0,2})$/.exec(text);
  if (!m) return text;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4].length === 3 ? `${m[4]}:00` : m[4]}`);
  if (Number.isNaN(ms)) return text;
  return `${new Date(ms).toISOString().slice(0, 19)}${m[3] ?? ""}Z`;
}

const TEXT_PARSERS = new Map<number, (text: string) => unknown>([
  [OID.INT8, parseInt8],
  [OID.NUMERIC, parseNumeric],
  [OID.DATE, identity],
  [OID.TIMESTAMP, parseTimestamp],
  [OID.TIMESTAMPTZ, parseTimestampTz],
  [OID.BYTEA, identity],
  [OID.INTERVAL, identity],
  [OID.MONEY, identity],
]);

/** pg's `types` option for a Client: Tau's JSON forms for the types above, pg's defaults for the rest. */
export const tauPgTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (format !== "binary") {
      const parser = TEXT_PARSERS.get(oid);
      if (parser) return parser;
    }
    return pgTypes.getTypeParser(oid, format as "text");
  }) as CustomTypesConfig["getTypeParser"],
};

// ── writing: types ──────────────────────────────────────────────────────────────────────────────────

/**
 * Redshift types for created tables and added columns: VARCHAR(65535) is the widest text (TEXT is
 * VARCHAR(256) there), SUPER holds JSON (inserted through JSON_PARSE). PostgreSQL's map is rows.ts's
 * POSTGRES_TYPES.
 */
export const REDSHIFT_TYPES: DialectTypeMap = {
  boolean: "BOOLEAN",
  integer: "INTEGER",
  bigint: "BIGINT",
  double: "DOUBLE PRECISION",
  text: "VARCHAR(65535)",
  date: "DATE",
  timestamp: "TIMESTAMP",
  timestamptz: "TIMESTAMPTZ",
  json: "SUPER",
};

// ── writing: COPY text format ───────────────────────────────────────────────────────────────────────

const NEEDS_ESCAPE = /[\\\n\r\t]/;

/** Escapes a value for COPY's text format: backslash, newline, carriage return and tab. */
export function escapeCopyText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let rep: string | null = null;
    if (c === 92) rep = "\\\\";
    else if (c === 10) rep = "\\n";
    else if (c === 13) rep = "\\r";
    else if (c === 9) rep = "\\t";
    if (rep !== null) {
      out += text.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

/** One value as COPY text: `\N` for null; objects and arrays as JSON; booleans as true/false. */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  switch (typeof v) {
    case "string":
      return escapeCopyText(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "\\N";
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    default:
      return escapeCopyText(JSON.stringify(v));
  }
}

/**
 * Encodes rows `from`…`to` as COPY text lines, the values of `keys` in order. With `seqStart` a running
 * number (seqStart, seqStart + 1, …) is written as the first column: the upsert's staging order.
 */
export function encodeCopyRows(
  rows: readonly Record<string, unknown>[],
  keys: readonly string[],
  seqStart: number | null = null,
  from = 0,
  to = rows.length,
): string {
  const n = keys.length;
  let out = "";
  for (let r = from; r < to; r++) {
    const row = rows[r];
    let line = seqStart === null ? "" : `${seqStart + r - from}\t`;
    for (let i = 0; i < n; i++) {
      if (i > 0) line += "\t";
      line += copyValue(row[keys[i]]);
    }
    out += `${line}\n`;
  }
  return out;
}

/** A row value as a bind parameter (Redshift's INSERT path): objects and arrays as JSON text. */
export function paramValue(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "bigint":
      return v.toString();
    default:
      return JSON.stringify(v);
  }
}
