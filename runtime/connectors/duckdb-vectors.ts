/**
 * Rows → DuckDB data chunks, a column at a time: the writer of every DuckDB load path that starts from row
 * objects (the guest's rows, or another connector's cursor). For each chunk of `vector_size()` rows, each
 * column is converted in one loop into a reused typed array and copied into DuckDB's vector with one call
 * (`copy_data_to_vector`); text goes in with one call per value; NULLs clear bits of the validity mask. The
 * chunk is then appended whole (`appendDataChunk`) — no per-cell conversion objects, no per-row calls.
 *
 * The conversions are what DuckDB's casts from text would give (what `INSERT … SELECT` from a VARCHAR staging
 * column produces): "2024-01-02" → DATE, "42" → INTEGER, `true`/"t"/1 → BOOLEAN, objects → JSON text. A value
 * that does not fit (300 into a TINYINT, "2024-02-30" into a DATE) is TAU_E_CONNECTOR_TYPE_MISMATCH naming
 * the column and the row; the caller rolls its transaction back.
 */
import { endianness } from "node:os";
import duckdb from "@duckdb/node-bindings";
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DOUBLE,
  DuckDBDataChunk,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBType,
} from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { ColumnBatch, type Batch } from "./column-batch";

/** How a column's values are written: the DuckDB type of its vector. */
export type VectorKind = "BOOLEAN" | "TINYINT" | "SMALLINT" | "INTEGER" | "BIGINT" | "FLOAT" | "DOUBLE" | "VARCHAR" | "DATE" | "TIMESTAMP" | "TIMESTAMPTZ";

/** One column of the chunks: the table column it fills and the row key it reads. */
export interface VectorColumn {
  /** The table column (named in errors). */
  name: string;
  /** The column's SQL type (named in errors). */
  sqlType: string;
  kind: VectorKind;
  /** The row key holding the column's values, or null: NULL in every row. */
  key: string | null;
}

const TYPES: Readonly<Record<VectorKind, DuckDBType>> = {
  BOOLEAN,
  TINYINT,
  SMALLINT,
  INTEGER,
  BIGINT,
  FLOAT,
  DOUBLE,
  VARCHAR,
  DATE,
  TIMESTAMP,
  TIMESTAMPTZ,
};

const INT_RANGE: Readonly<Partial<Record<VectorKind, readonly [number, number]>>> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INTEGER: [-2147483648, 2147483647],
};

/** Rows per chunk (DuckDB's STANDARD_VECTOR_SIZE). */
export const CHUNK_ROWS = duckdb.vector_size();
const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
const FLOAT_MAX = 3.4028234663852886e38;
// The typed arrays below are written in the platform's byte order, which is DuckDB's (prebuilt for x64/arm64).
const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Writes row batches as data chunks into one appender (whose columns are exactly `columns`, in order).
 * `write` may be called any number of times; the caller flushes/closes the appender.
 */
export class ChunkWriter {
  private readonly chunk: DuckDBDataChunk;
  private readonly raw: duckdb.DataChunk;
  private readonly vectors: duckdb.Vector[];
  private readonly buffers: ArrayBuffer[];
  private readonly validity = new Uint32Array(Math.ceil(CHUNK_ROWS / 64) * 2);
  /** One column of a chunk gathered from row objects (reused). */
  private readonly scratch: unknown[] = new Array<unknown>(CHUNK_ROWS).fill(null);

  constructor(
    private readonly appender: DuckDBAppender,
    private readonly columns: readonly VectorColumn[],
    private readonly table: string,
  ) {
    if (!LITTLE_ENDIAN) throw new TauError("TAU_E_INTERNAL", "DuckDB loads need a little-endian platform.");
    // The chunk takes the appender's own column types (a JSON column stays JSON), so DuckDB casts nothing;
    // each must be the type the column's values are written as, or the bytes would be misread.
    const types = columns.map((col, i) => {
      const type = i < appender.columnCount ? appender.columnType(i) : null;
      if (!type || type.typeId !== TYPES[col.kind].typeId || appender.columnCount !== columns.length) {
        throw new TauError("TAU_E_INTERNAL", `Internal error: the appender's column ${i} is ${String(type)}, not ${col.kind}.`);
      }
      return type;
    });
    this.chunk = DuckDBDataChunk.create(types);
    this.raw = this.chunk.chunk;
    this.vectors = columns.map((_, i) => duckdb.data_chunk_get_vector(this.raw, i));
    this.buffers = columns.map((c) => new ArrayBuffer(CHUNK_ROWS * (c.kind === "VARCHAR" ? 0 : c.kind === "BOOLEAN" || c.kind === "TINYINT" ? 1 : 8)));
  }

  /**
   * Appends `rows` (row objects, or a columnar batch whose columns are read in place); `rowOffset` is the
   * load's row number of the batch's first row (for errors).
   */
  write(rows: Batch, rowOffset: number): void {
    const columnar = rows instanceof ColumnBatch ? rows : null;
    const sources = this.columns.map((col) => (columnar && col.key !== null ? (columnar.column(col.key) ?? null) : null));
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.length - start);
      try {
        for (let c = 0; c < this.columns.length; c++) {
          const key = this.columns[c].key;
          if (key === null || (columnar && sources[c] === null)) this.fill(c, null, 0, start, n, rowOffset);
          else if (columnar) this.fill(c, sources[c], start, start, n, rowOffset);
          else this.fill(c, this.gather(rows as readonly Record<string, unknown>[], key, start, n), 0, start, n, rowOffset);
        }
        duckdb.data_chunk_set_size(this.raw, n);
        this.appender.appendDataChunk(this.chunk);
      } finally {
        duckdb.data_chunk_reset(this.raw);
      }
    }
  }

  /** One column of a chunk of row objects, into a reused array (the fill loops then read one array either way). */
  private gather(rows: readonly Record<string, unknown>[], key: string, start: number, n: number): unknown[] {
    const out = this.scratch;
    for (let r = 0; r < n; r++) out[r] = rows[start + r][key];
    return out;
  }

  /**
   * Fills vector `c` with `n` values read from `values[base]…` (null `values`: NULL in every row); `start` is
   * the chunk's first row in the batch (for errors).
   */
  private fill(c: number, values: ArrayLike<unknown> | null, base: number, start: number, n: number, rowOffset: number): void {
    const col = this.columns[c];
    const vector = this.vectors[c];
    const valid = this.validity;
    valid.fill(0xffffffff);
    let nulls = 0;
    const isNull = (r: number): void => {
      valid[r >>> 5] &= ~(1 << (r & 31));
      nulls++;
    };
    const fail = (value: unknown, r: number): never => {
      throw valueMismatch(value, col, this.table, rowOffset + start + r);
    };
    if (values === null) {
      for (let r = 0; r < n; r++) isNull(r);
    } else {
      const buffer = this.buffers[c];
      switch (col.kind) {
        case "VARCHAR":
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) isNull(r);
            else duckdb.vector_assign_string_element(vector, r, textOf(v));
          }
          break;
        case "BOOLEAN": {
          const out = new Uint8Array(buffer, 0, n);
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) isNull(r);
            else out[r] = booleanOf(v) ? 1 : 0;
          }
          break;
        }
        case "TINYINT":
        case "SMALLINT":
        case "INTEGER": {
          const [min, max] = INT_RANGE[col.kind] as readonly [number, number];
          const out = col.kind === "TINYINT" ? new Int8Array(buffer, 0, n) : col.kind === "SMALLINT" ? new Int16Array(buffer, 0, n) : new Int32Array(buffer, 0, n);
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) {
              isNull(r);
              continue;
            }
            const x = typeof v === "number" ? v : numberOf(v);
            if (!Number.isInteger(x) || x < min || x > max) fail(v, r);
            out[r] = x;
          }
          break;
        }
        case "BIGINT": {
          const out = new Int32Array(buffer, 0, 2 * n);
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) {
              isNull(r);
              continue;
            }
            if (typeof v === "number") {
              if (!Number.isInteger(v) || v >= TWO_63 || v < -TWO_63) fail(v, r);
              // Exact for every integer double in range: the division by 2^32 and the floor are exact.
              const hi = Math.floor(v / TWO_32);
              out[2 * r] = v - hi * TWO_32;
              out[2 * r + 1] = hi;
            } else {
              const b = bigintOf(v);
              if (b === null) fail(v, r);
              else writeInt64(out, r, b);
            }
          }
          break;
        }
        case "FLOAT":
        case "DOUBLE": {
          const out = col.kind === "FLOAT" ? new Float32Array(buffer, 0, n) : new Float64Array(buffer, 0, n);
          if (col.kind === "DOUBLE" && values instanceof Float64Array) {
            // A columnar batch's doubles (finite, checked by the decoder): copied as they are.
            out.set(values.subarray(base, base + n));
            break;
          }
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) {
              isNull(r);
              continue;
            }
            const x = typeof v === "number" ? v : numberOf(v);
            if (Number.isNaN(x) || (col.kind === "FLOAT" && Math.abs(x) > FLOAT_MAX && Number.isFinite(x))) fail(v, r);
            out[r] = x;
          }
          break;
        }
        case "DATE": {
          const out = new Int32Array(buffer, 0, n);
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) isNull(r);
            else out[r] = dateDays(v) ?? fail(v, r);
          }
          break;
        }
        case "TIMESTAMP":
        case "TIMESTAMPTZ": {
          const out = new Int32Array(buffer, 0, 2 * n);
          for (let r = 0; r < n; r++) {
            const v = values[base + r];
            if (v === null || v === undefined) {
              isNull(r);
              continue;
            }
            const micros = timestampMicros(String(v), col.kind === "TIMESTAMPTZ");
            if (micros === null) fail(v, r);
            else writeInt64(out, r, micros);
          }
          break;
        }
      }
      if (col.kind !== "VARCHAR") duckdb.copy_data_to_vector(vector, 0, buffer, 0, n * bytesOf(col.kind));
    }
    if (nulls > 0) {
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(vector, 0, valid.buffer, 0, Math.ceil(n / 64) * 8);
    }
  }
}

function bytesOf(kind: VectorKind): number {
  switch (kind) {
    case "BOOLEAN":
    case "TINYINT":
      return 1;
    case "SMALLINT":
      return 2;
    case "INTEGER":
    case "FLOAT":
    case "DATE":
      return 4;
    default:
      return 8;
  }
}

function writeInt64(out: Int32Array, r: number, b: bigint): void {
  out[2 * r] = Number(BigInt.asIntN(32, b));
  out[2 * r + 1] = Number(BigInt.asIntN(32, b >> 32n));
}

/** A value as the text DuckDB stores for it: strings as they are, numbers and booleans as JS writes them, the rest as JSON. */
function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function booleanOf(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  return /^(true|t|1)$/i.test(String(value));
}

/** A number from a number or numeric text (DuckDB's cast trims spaces); NaN otherwise. */
function numberOf(value: unknown): number {
  if (typeof value !== "string") return Number.NaN;
  const text = value.trim();
  return text === "" ? Number.NaN : Number(text);
}

const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function bigintOf(value: unknown): bigint | null {
  if (typeof value !== "string" || !INT_TEXT.test(value)) return null;
  const b = BigInt(value.trim());
  return b < INT64_MIN || b > INT64_MAX ? null : b;
}

function valueMismatch(value: unknown, col: { name: string; sqlType: string }, table: string, row: number): TauError {
  return new TauError(
    "TAU_E_CONNECTOR_TYPE_MISMATCH",
    `Column '${col.name}' of ${table} is ${col.sqlType}; row ${row} has ${JSON.stringify(value)?.slice(0, 60)}, which does not fit. Nothing was loaded.`,
    { column: col.name, columnType: col.sqlType, row, table },
  );
}

// ── dates and timestamps, as DuckDB's casts from text read them ─────────────────────────────────────────

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DAY_MS = 86_400_000;
// Date columns repeat a few values: each text is parsed once per process (bounded).
const dateCache = new Map<string, number>();

/** Days since 1970-01-01 for a date (or timestamp, whose date part is taken) text; null when it is not one. */
function dateDays(value: unknown): number | null {
  const text = String(value);
  const cached = dateCache.get(text);
  if (cached !== undefined) return cached;
  const ms = parseMillis(text);
  if (ms === null) return null;
  const days = Math.floor(ms.local / DAY_MS);
  if (dateCache.size >= 10_000) dateCache.clear();
  dateCache.set(text, days);
  return days;
}

/**
 * Microseconds since the epoch for a timestamp text. A plain TIMESTAMP keeps the wall clock as written; a
 * TIMESTAMPTZ honours the offset (a text without one is UTC: the zoned path is taken only in UTC sessions).
 */
function timestampMicros(text: string, zoned: boolean): bigint | null {
  const ms = parseMillis(text);
  if (ms === null) return null;
  const micros = BigInt(zoned ? ms.local - ms.offsetMs : ms.local) * 1000n + BigInt((ms.fraction ?? "").padEnd(6, "0").slice(0, 6) || "0");
  return micros;
}

function parseMillis(value: string): { local: number; offsetMs: number; fraction: string | undefined } | null {
  const m = TS_RE.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  let offsetMs = 0;
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMs = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0")) * 60_000;
  }
  return { local: date.getTime(), offsetMs, fraction: m[7] };
}
