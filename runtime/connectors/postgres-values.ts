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

// ── reading straight to JSON text (extract) ─────────────────────────────────────────────────────────

/** One column's text value (never null) → its JSON text, with the same forms as `tauPgTypes`. */
export type JsonCell = (text: string) => string;

/** A JSON string literal (JSON.stringify returns a flat string; cheaper overall than concatenating quotes). */
const quote = (text: string): string => JSON.stringify(text);

function floatJson(text: string): string {
  // PostgreSQL writes floats as JSON-compatible numbers, except NaN and ±Infinity (no JSON form: null, as
  // JSON.stringify writes them).
  const c = text.charCodeAt(text.charCodeAt(0) === 45 ? 1 : 0);
  return c === 78 || c === 73 ? "null" : text;
}

function int8Json(text: string): string {
  if (text.length < 16) return text;
  return typeof parseInt8(text) === "number" ? text : quote(text);
}

function numericJson(text: string): string {
  const v = parseNumeric(text);
  return typeof v === "number" ? JSON.stringify(v) : quote(v);
}

const JSON_CELLS = new Map<number, JsonCell>([
  [16, (t) => (t === "t" ? "true" : "false")], // bool
  [21, (t) => t], // int2
  [23, (t) => t], // int4
  [26, (t) => t], // oid
  [700, floatJson],
  [701, floatJson],
  [20, int8Json],
  [1700, numericJson],
  [114, (t) => t], // json: the server validated it
  [3802, (t) => t], // jsonb
  [OID.TIMESTAMP, (t) => quote(parseTimestamp(t))],
  [OID.TIMESTAMPTZ, (t) => quote(parseTimestampTz(t))],
  [25, quote], // text
  [1043, quote], // varchar
  [1042, quote], // bpchar
  [19, quote], // name
  [OID.DATE, quote],
  [OID.BYTEA, quote],
  [OID.INTERVAL, quote],
  [OID.MONEY, quote],
  [2950, quote], // uuid
]);

/** The JSON converter for a column of type `oid`: a fast one for common types, else pg's parser + JSON.stringify. */
export function jsonCellFor(oid: number): JsonCell {
  const cell = JSON_CELLS.get(oid);
  if (cell) return cell;
  const parse = tauPgTypes.getTypeParser(oid, "text") as (text: string) => unknown;
  return (text) => {
    const v = parse(text);
    return v === undefined ? "null" : JSON.stringify(v) ?? "null";
  };
}

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
 * Encodes rows straight into UTF-8 bytes for COPY's text format. One pass per string both escapes and
 * copies ASCII characters (non-ASCII text goes through Buffer.write); no intermediate strings are built, which
 * keeps the garbage collector out of a million-row load. The buffer grows by doubling.
 */
export class CopyBuffer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a fresh buffer the caller may keep); the encoder starts over. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.pos++] = c;
  }

  /** Writes `s` escaped for COPY text (backslash, newline, carriage return, tab). */
  text(s: string): void {
    const n = s.length;
    // Worst case: 3 UTF-8 bytes per UTF-16 unit (an escaped ASCII character takes 2).
    this.reserve(n * 3);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        pos += buf.write(escapeCopyText(i === 0 ? s : s.slice(i)), pos, "utf8");
        break;
      }
      if (c === 92) {
        buf[pos++] = 92;
        buf[pos++] = 92;
      } else if (c === 10) {
        buf[pos++] = 92;
        buf[pos++] = 110;
      } else if (c === 13) {
        buf[pos++] = 92;
        buf[pos++] = 114;
      } else if (c === 9) {
        buf[pos++] = 92;
        buf[pos++] = 116;
      } else buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** Writes one value as COPY text (see `copyValue`). */
  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        this.text(v);
        return;
      case "number":
        if (Number.isFinite(v)) this.text(String(v));
        else this.nul();
        return;
      case "boolean":
        this.text(v ? "true" : "false");
        return;
      case "bigint":
        this.text(v.toString());
        return;
      default:
        if (v === null || v === undefined) this.nul();
        else this.text(JSON.stringify(v));
    }
  }

  /** COPY's NULL marker, \N (written raw: it must not be escaped). */
  private nul(): void {
    this.reserve(2);
    this.buf[this.pos++] = 92;
    this.buf[this.pos++] = 78;
  }
}

/** Encodes rows `from`…`to` of a batch as COPY text lines into `out`; `seqStart` numbers them when the encoder has a sequence column. */
export type CopyEncoder = (out: CopyBuffer, rows: readonly Record<string, unknown>[], from: number, to: number, seqStart: number) => void;

const encoderCache = new Map<string, CopyEncoder>();

/**
 * A COPY text encoder specialised for `keys` (and a leading running number with `withSeq`): the property
 * reads are constant keys, so V8's inline caches stay monomorphic over rows of one shape. Keys are embedded
 * as JSON string literals, which cannot break out of the generated code.
 */
export function copyEncoder(keys: readonly string[], withSeq: boolean): CopyEncoder {
  const id = `${withSeq ? 1 : 0}:${JSON.stringify(keys)}`;
  let encoder = encoderCache.get(id);
  if (encoder) return encoder;
  const steps: string[] = [];
  if (withSeq) steps.push("out.text(String(seq + r - from));");
  keys.forEach((key, i) => {
    if (i > 0 || withSeq) steps.push("out.byte(9);");
    steps.push(`out.value(row[${JSON.stringify(key)}]);`);
  });
  const body = `return function encode(out, rows, from, to, seq) {
  for (let r = from; r < to; r++) { const row = rows[r]; ${steps.join(" ")} out.byte(10); }
};`;
  encoder = new Function(body)() as CopyEncoder;
  if (encoderCache.size > 256) encoderCache.clear();
  encoderCache.set(id, encoder);
  return encoder;
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
  const out = new CopyBuffer(1024);
  copyEncoder(keys, seqStart !== null)(out, rows, from, to, seqStart ?? 0);
  return out.take().toString("utf8");
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
