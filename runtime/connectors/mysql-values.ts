/**
 * Values between MySQL/MariaDB and the pipeline's JSON.
 *
 * Reading (extract, cursors): mysql2 runs with `supportBigNumbers` (BIGINT → number when safe, else a
 * decimal string) and `dateStrings`; this file then turns DATE into "YYYY-MM-DD", DATETIME/TIMESTAMP into
 * ISO-8601 UTC (the session's time_zone is +00:00) with the source precision, DECIMAL into a number when
 * it has at most 15 significant digits (else its exact text), TINYINT(1) into a boolean, binary strings
 * into base64 and BIT into a number. JSON columns arrive parsed (mysql2 reads MySQL's JSON type and
 * MariaDB's extended metadata).
 *
 * Writing (load): types are inferred and checked with the shared row typing (rows.ts); this file maps
 * logical types to MySQL (BIGINT, DOUBLE, TINYINT(1), LONGTEXT or VARCHAR for key columns, DATE,
 * DATETIME(6), JSON) and encodes each value for its target column (ISO timestamps with a zone become UTC
 * "YYYY-MM-DD HH:MM:SS.ffffff", JSON columns get JSON text).
 */
import type { FieldPacket } from "mysql2";
import { valueFits, type LogicalType } from "./rows";

type Row = Record<string, unknown>;

// mysql2 column type ids (mysql2/lib/constants/types.js).
const T = {
  DECIMAL: 0,
  TINY: 1,
  TIMESTAMP: 7,
  DATE: 10,
  DATETIME: 12,
  NEWDATE: 14,
  BIT: 16,
  NEWDECIMAL: 246,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
} as const;
const BINARY_CHARSET = 63;

// ── reading ─────────────────────────────────────────────────────────────────────────────────────────

/** A per-result converter: fixes the columns whose mysql2 value is not yet the JSON Tau promises. */
export type RowConverter = (row: Row) => Row;

/** Builds the converter for a result's fields; identity when no column needs work. */
export function rowConverter(fields: readonly FieldPacket[] | undefined): RowConverter {
  const fixes: Array<[string, (v: unknown) => unknown]> = [];
  for (const f of fields ?? []) {
    const fix = fieldFix(f);
    if (fix) fixes.push([f.name, fix]);
  }
  if (fixes.length === 0) return (row) => row;
  return (row) => {
    for (let i = 0; i < fixes.length; i++) {
      const [name, fix] = fixes[i];
      const v = row[name];
      if (v !== null && v !== undefined) row[name] = fix(v);
    }
    return row;
  };
}

function fieldFix(f: FieldPacket): ((v: unknown) => unknown) | null {
  const type = f.columnType ?? f.type;
  switch (type) {
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return decimalToJson;
    case T.TINY:
      return f.columnLength === 1 ? (v) => (typeof v === "number" ? v !== 0 : v) : null;
    case T.DATETIME:
    case T.TIMESTAMP:
      return (v) => (typeof v === "string" ? datetimeToIso(v) : v);
    case T.DATE:
    case T.NEWDATE:
      return null;
    case T.BIT:
      return bitToNumber;
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
    case T.VAR_STRING:
    case T.STRING:
      return f.characterSet === BINARY_CHARSET ? (v) => (Buffer.isBuffer(v) ? v.toString("base64") : v) : null;
    default:
      return null;
  }
}

/** DECIMAL text → number when a double holds it exactly enough (≤ 15 significant digits), else the text. */
export function decimalToJson(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const digits = v.replace(/^[-+]?0*/, "").replace(".", "").replace(/^0+/, "");
  if (digits.length <= 15) return Number(v);
  return v;
}

/** "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) → ISO-8601 with Z; milliseconds unless the value has finer digits. */
export function datetimeToIso(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(v);
  if (!m) return v; // zero dates and other out-of-range text stay as MySQL wrote them
  let frac = (m[3] ?? "").padEnd(6, "0");
  if (frac.endsWith("000")) frac = frac.slice(0, 3);
  return `${m[1]}T${m[2]}.${frac}Z`;
}

function bitToNumber(v: unknown): unknown {
  if (!Buffer.isBuffer(v)) return v;
  if (v.length > 6) return `0x${v.toString("hex")}`;
  let n = 0;
  for (const byte of v) n = n * 256 + byte;
  return n;
}

// ── query parameters ────────────────────────────────────────────────────────────────────────────────

const ZONED_TS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/;
const NAIVE_TS = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)$/;

/**
 * An ISO timestamp with a zone ("2026-01-02T03:04:05.123Z", what a Date parameter becomes) → the UTC text
 * MySQL accepts ("2026-01-02 03:04:05.123"); null when `v` is not one.
 */
export function zonedToMysql(v: string): string | null {
  const m = ZONED_TS.exec(v);
  if (!m) return null;
  const zone = m[8];
  let offsetMin = 0;
  if (zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(zone.length - 2));
    offsetMin = sign * (hh * 60 + (zone.length > 3 ? mm : 0));
  }
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) - offsetMin * 60_000;
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = (m[7] ?? "").slice(0, 6);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ""}`;
}

/** A timestamp-ish string as MySQL DATETIME text (zone → UTC, 'T' → ' '); other strings unchanged. */
export function toMysqlDatetime(v: string): string {
  const zoned = zonedToMysql(v);
  if (zoned !== null) return zoned;
  const m = NAIVE_TS.exec(v);
  return m ? `${m[1]} ${m[2]}` : v;
}

// ── load: kinds, types, checks, encoding ───────────────────────────────────────────────────────────

/** How a target column takes values (from its MySQL type, or from the logical type load created it for). */
export type ColumnClass = "int" | "bool" | "number" | "date" | "datetime" | "time" | "json" | "text" | "binary" | "other";

/**
 * The MySQL type load creates a column with, per logical type (rows.ts). Not rows.ts's MYSQL_TYPES: text
 * becomes LONGTEXT (TEXT stops at 64 KB), zoned timestamps DATETIME(6) holding UTC (TIMESTAMP ends in 2038),
 * and key columns an indexable VARCHAR instead of LONGTEXT/JSON.
 */
export function mysqlTypeFor(type: LogicalType, keyTextLength: number | null): string {
  switch (type) {
    case "boolean":
      return "TINYINT(1)";
    case "integer":
    case "bigint":
      return "BIGINT";
    case "double":
      return "DOUBLE";
    case "date":
      return "DATE";
    case "timestamp":
    case "timestamptz":
      return "DATETIME(6)";
    case "json":
      return keyTextLength !== null ? `VARCHAR(${keyTextLength})` : "JSON";
    case "text":
      return keyTextLength !== null ? `VARCHAR(${keyTextLength})` : "LONGTEXT";
  }
}

/** The class of an existing column from information_schema's DATA_TYPE and COLUMN_TYPE. */
export function classOfColumn(dataType: string, columnType: string, isJson: boolean): ColumnClass {
  if (isJson) return "json";
  const t = dataType.toLowerCase();
  if (t === "tinyint" && /^tinyint\(1\)/i.test(columnType)) return "bool";
  if (["tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "bit"].includes(t)) return "int";
  if (["decimal", "numeric", "float", "double", "real"].includes(t)) return "number";
  if (t === "date") return "date";
  if (t === "datetime" || t === "timestamp") return "datetime";
  if (t === "time") return "time";
  if (t === "json") return "json";
  if (["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"].includes(t)) return "text";
  if (["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"].includes(t)) return "binary";
  return "other";
}

/** The class of a column load creates for a logical type. */
export function classOfLogical(type: LogicalType): ColumnClass {
  switch (type) {
    case "boolean":
      return "bool";
    case "integer":
    case "bigint":
      return "int";
    case "double":
      return "number";
    case "date":
      return "date";
    case "timestamp":
    case "timestamptz":
      return "datetime";
    case "json":
      return "json";
    case "text":
      return "text";
  }
}

/** A value encoded as the text MySQL should store for a column of class `c`, or null for SQL NULL. */
export function encodeValue(v: unknown, c: ColumnClass): string | null {
  if (v === null || v === undefined) return null;
  if (c === "json") return JSON.stringify(v);
  switch (typeof v) {
    case "string":
      if (c === "datetime" || c === "date") return toMysqlDatetime(v);
      if (c === "bool") return /^(true|t)$/i.test(v) ? "1" : /^(false|f)$/i.test(v) ? "0" : v;
      return v;
    case "number":
      return Number.isFinite(v) ? String(v) : null;
    case "boolean":
      return c === "text" || c === "other" || c === "time" ? String(v) : v ? "1" : "0";
    case "bigint":
      return v.toString();
    default:
      return JSON.stringify(v);
  }
}

// ── SQL text ────────────────────────────────────────────────────────────────────────────────────────

/** A MySQL string literal (backslash escapes: the session's sql_mode never has NO_BACKSLASH_ESCAPES). */
export function quoteString(s: string): string {
  return `'${s.replace(/[\0\n\r\b\t\\'"\x1a]/g, escapeChar)}'`;
}

function escapeChar(c: string): string {
  switch (c) {
    case "\0":
      return "\\0";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\b":
      return "\\b";
    case "\t":
      return "\\t";
    case "\x1a":
      return "\\Z";
    default:
      return `\\${c}`;
  }
}

/** An encoded value as an SQL literal. */
export function sqlLiteral(encoded: string | null, c: ColumnClass, original: unknown): string {
  if (encoded === null) return "NULL";
  if ((typeof original === "number" || typeof original === "boolean") && c !== "text" && c !== "json" && c !== "other" && c !== "time") return encoded;
  return quoteString(encoded);
}

/** An encoded value as a field of LOAD DATA's default format (tab-separated, backslash escapes, \N null). */
export function tsvField(encoded: string | null): string {
  if (encoded === null) return "\\N";
  return /[\\\t\n\r\0]/.test(encoded) ? encoded.replace(/[\\\t\n\r\0]/g, tsvEscape) : encoded;
}

function tsvEscape(c: string): string {
  switch (c) {
    case "\t":
      return "\\t";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\0":
      return "\\0";
    default:
      return "\\\\";
  }
}

export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/**
 * Fills `?` placeholders with escaped literals, skipping quoted strings, quoted identifiers and comments
 * (mysql2's own formatter replaces a `?` inside a string literal too). A Date parameter arrives as ISO text
 * with a zone and is sent as UTC DATETIME text, which MySQL compares correctly with the session at +00:00.
 */
export function formatSql(sql: string, params: readonly unknown[]): string {
  if (params.length === 0 && sql.indexOf("?") < 0) return sql;
  let out = "";
  let p = 0;
  let i = 0;
  let last = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === "`") {
      i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === "\\" && c !== "`" ? 2 : 1;
      i++;
    } else if (c === "-" && sql[i + 1] === "-" && (i + 2 >= sql.length || /\s/.test(sql[i + 2]))) {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "#") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (c === "?") {
      if (p >= params.length) throw new RangeError(`The SQL has more ? placeholders than the ${params.length} parameters given.`);
      out += sql.slice(last, i) + paramLiteral(params[p++]);
      i++;
      last = i;
    } else i++;
  }
  if (p < params.length) throw new RangeError(`${params.length} parameters were given for ${p} ? placeholders.`);
  return out + sql.slice(last);
}

function paramLiteral(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "NULL";
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (typeof v === "string") return quoteString(zonedToMysql(v) ?? v);
  return quoteString(JSON.stringify(v));
}

// ── LOAD DATA fields, encoded and checked in one pass ────────────────────────────────────────────────

/**
 * Turns one value into its LOAD DATA field text (tab-separated format, `\N` for NULL), or returns undefined
 * when the value does not fit the column (the caller names column and row in the error).
 */
export type TsvEncoder = (v: unknown) => string | undefined;

/** The encoder for a column of class `cls` whose values are checked against `type` (null: not checked). */
export function tsvEncoder(cls: ColumnClass, type: LogicalType | null): TsvEncoder {
  const check = (v: unknown): boolean => type === null || valueFits(v, type);
  switch (cls) {
    case "int":
    case "number":
      return (v) => {
        if (typeof v === "number") {
          if (cls === "int" && Number.isSafeInteger(v) && type !== "integer") return `${v}`;
          return Number.isFinite(v) && (cls === "number" || type === null || valueFits(v, type)) ? `${v}` : undefined;
        }
        if (v === null || v === undefined) return "\\N";
        if (typeof v === "boolean") return v ? "1" : "0";
        return typeof v === "string" && check(v) ? v.trim() : undefined;
      };
    case "bool":
      return (v) => {
        if (v === null || v === undefined) return "\\N";
        if (typeof v === "boolean") return v ? "1" : "0";
        if (typeof v === "number") return v === 0 || v === 1 || type === null ? String(v) : undefined;
        if (typeof v === "string" && check(v)) return /^(true|t|1)$/i.test(v) ? "1" : "0";
        return undefined;
      };
    case "date":
    case "datetime":
      return (v) => {
        if (v === null || v === undefined) return "\\N";
        if (typeof v !== "string") return undefined;
        // Fast path: Date.toISOString()'s shape, the usual case. Only the shape is looked at here: a bad digit
        // makes the server warn, and any warning fails the load.
        const n = v.length;
        if ((n === 24 || n === 20 || n === 27) && v.charCodeAt(10) === 84 && v.charCodeAt(n - 1) === 90 && v.charCodeAt(4) === 45 && v.charCodeAt(13) === 58) {
          return `${v.slice(0, 10)} ${v.slice(11, -1)}`;
        }
        if (v.length === 10 && cls === "date") return check(v) ? v : undefined;
        return check(v) ? toMysqlDatetime(v) : undefined;
      };
    case "json":
      return (v) => (v === null || v === undefined ? "\\N" : tsvField(JSON.stringify(v)));
    default:
      return (v) => {
        if (v === null || v === undefined) return "\\N";
        if (typeof v === "string") return tsvField(v);
        if (typeof v === "number") return Number.isFinite(v) ? String(v) : "\\N";
        if (typeof v === "boolean") return String(v);
        return cls === "other" || cls === "binary" ? (check(v) ? tsvField(JSON.stringify(v)) : undefined) : tsvField(JSON.stringify(v));
      };
  }
}
