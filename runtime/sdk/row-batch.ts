/**
 * The columnar row transport, guest end (docs/bridge-protocol.md, "connector.load"): `load(rows)` sends
 * its rows as one array per column instead of one JSON object per row. The host reads homogeneous columns
 * several times faster than objects (no depth walk, numbers not parsed), and hands them to drivers that write a
 * column at a time (DuckDB) without building row objects again.
 *
 * The payload is still one string: a header line of JSON, then the columns' texts back to back.
 *
 *   {"handle":"h1","options":{…},"rows":3,"columns":[["id","f",24],["name","s",14]]}\n<24 chars>["a","b",null]
 *
 * Each column is `[name, kind, length of its text in UTF-16 units]`; kind `n` holds only numbers and nulls,
 * `s` strings and nulls, `b` booleans and nulls, `j` any JSON value — all four as a JSON array — and `f`
 * numbers with no null, as their IEEE-754 doubles: 8 characters per value, each one byte (0–255) of the
 * little-endian double (writing and reading numbers as text is most of JSON's cost for numeric columns).
 * The values are what `JSON.stringify` of the row objects would have given (Dates as their ISO text, BigInts
 * as decimal strings, NaN as null, -0 as 0, nested objects as JSON); a field a row lacks, or holds undefined or
 * a function in, is null there.
 *
 * Rows the format does not fit (not plain objects, a toJSON on a row, sparse fields that would make the
 * columns much larger than the rows, an integer-like field name after others) are left to the row transport:
 * `encodeRowBatch` returns null. Internal to the SDK.
 */
import { toJson, parseJson } from "./json";
import {
  ArrayIsArray,
  DateCtor,
  JSONStringify,
  NumberIsFinite,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  ObjectKeys,
  ObjectPrototype,
  StringCtor,
  arrayPush,
  safeMap,
} from "./primordials";

const KIND_STRING = 1;
const KIND_NUMBER = 2;
const KIND_BOOLEAN = 4;
const KIND_JSON = 8;
/** Stands for "no JSON form" (undefined, functions, symbols): the field is left out, as JSON.stringify does. */
const ABSENT: unique symbol = Symbol("absent");

const dateToJson = DateCtor.prototype.toJSON;
const ReflectApply = Reflect.apply;
const StringFromCharCode = String.fromCharCode;
const Float64ArrayCtor = Float64Array;
const Uint8ArrayCtor = Uint8Array;
const uint8Subarray = Uint8Array.prototype.subarray;
/** Bytes per String.fromCharCode call (its arguments go on the stack). */
const CHARS_PER_CALL = 8192;

/** A column of finite numbers (a plain array) as doubles; + 0 turns -0 into 0, as JSON would write it. */
function toDoubles(column: readonly unknown[]): Float64Array {
  const doubles = new Float64ArrayCtor(column.length);
  for (let i = 0; i < column.length; i++) doubles[i] = (column[i] as number) + 0;
  return doubles;
}

/** The first `length` doubles as a plain array (a column that turned out not to be all numbers). */
function numbersOf(doubles: Float64Array, length: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < length; i++) out[i] = doubles[i];
  return out;
}

/** Doubles as their bytes, one character per byte. */
function bytesText(doubles: Float64Array): string {
  const bytes = new Uint8ArrayCtor(doubles.buffer, doubles.byteOffset, doubles.byteLength);
  let text = "";
  for (let i = 0; i < bytes.length; i += CHARS_PER_CALL) {
    text += ReflectApply(StringFromCharCode, null, ReflectApply(uint8Subarray, bytes, [i, i + CHARS_PER_CALL]) as Uint8Array) as string;
  }
  return text;
}

/** Cells the columns may hold beyond the fields the rows really have (sparse rows go by the row transport). */
function sparseLimit(present: number): number {
  return 4 * present + 65_536;
}

/** One field's value as JSON.stringify would write it: a JSON value, or ABSENT. Throws like JSON.stringify. */
function cellOf(v: unknown): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return NumberIsFinite(v) ? v : null;
    case "bigint":
      return StringCtor(v);
    case "object": {
      if (v === null) return null;
      // The built-in Date toJSON (a Date's, unless the pipeline replaced it): call it as JSON.stringify would.
      if ((v as { toJSON?: unknown }).toJSON === dateToJson) return ReflectApply(dateToJson, v, []) as unknown;
      const text = toJson(v);
      return text === undefined ? ABSENT : parseJson(text);
    }
    default:
      return ABSENT;
  }
}

/** Whether an object with these keys, defined in this order, lists them in this order. */
function enumeratesInOrder(names: readonly string[]): boolean {
  const probe = ObjectCreate(null) as Record<string, unknown>;
  for (let i = 0; i < names.length; i++) ObjectDefineProperty(probe, names[i]!, { value: 0, enumerable: true });
  const keys = ObjectKeys(probe);
  for (let i = 0; i < names.length; i++) if (keys[i] !== names[i]) return false;
  return true;
}

function kindBit(cell: unknown): number {
  switch (typeof cell) {
    case "string":
      return KIND_STRING;
    case "number":
      return KIND_NUMBER;
    case "boolean":
      return KIND_BOOLEAN;
    default:
      return cell === null ? 0 : KIND_JSON;
  }
}

function kindLetter(bits: number): string {
  if (bits === 0 || bits === KIND_NUMBER) return "n";
  if (bits === KIND_STRING) return "s";
  if (bits === KIND_BOOLEAN) return "b";
  return "j";
}

/** Rows `from`..`to` of a load sent in parts: part number `part` (from 1) of load `load`. */
export interface RowBatchPart {
  load: string;
  part: number;
  from: number;
  to: number;
}

/**
 * The `connector.load` payload for `rows` going to connector `handle` with load `options`, or null when the
 * rows are better sent by the row transport (see the file comment). Throws what JSON.stringify of the rows
 * would throw (a cycle, a throwing getter or toJSON).
 */
export function encodeRowBatch(handle: string | number, options: Record<string, unknown>, rows: readonly unknown[], part?: RowBatchPart): string | null {
  /** Rows from..from+n of `rows` (a part of a pipelined load, or all of them). */
  const from = part ? part.from : 0;
  const n = part ? part.to - part.from : rows.length;
  const names: string[] = [];
  const columns: unknown[][] = [];
  const kinds: number[] = [];
  /** Whether a column holds a null (a numeric column without one goes as doubles). */
  const nulls: boolean[] = [];
  const index = safeMap<string, number>();
  /** A column's values while they are all finite numbers (then `columns` holds nothing for it). */
  const doubles: (Float64Array | null)[] = [];
  /** Fields the rows really have, and nulls the columns hold for fields rows lack. */
  let present = 0;
  let filled = 0;
  let plainPrototype = true;
  for (const _key in ObjectPrototype) plainPrototype = false;
  for (let r = 0; r < n; r++) {
    const row = rows[from + r];
    if (typeof row !== "object" || row === null || ArrayIsArray(row)) return null;
    if (typeof (row as { toJSON?: unknown }).toJSON === "function") return null;
    const values = row as Record<string, unknown>;
    let keys = names;
    let same: boolean;
    const proto: unknown = ObjectGetPrototypeOf(row);
    if (plainPrototype && (proto === ObjectPrototype || proto === null)) {
      // for…in lists the same keys as Object.keys here (no enumerable inherited ones) without an array per row.
      let k = 0;
      same = true;
      for (const key in values) {
        if (key !== names[k]) {
          same = false;
          break;
        }
        k++;
      }
      if (k !== names.length) same = false;
      if (!same) keys = ObjectKeys(row);
    } else {
      keys = ObjectKeys(row);
      same = keys.length === names.length;
      for (let k = 0; same && k < keys.length; k++) same = keys[k] === names[k];
    }
    if (same) {
      // The common case: the same fields as the columns so far, in the same order.
      for (let k = 0; k < keys.length; k++) {
        const v = values[keys[k]!];
        const d = doubles[k];
        if (d) {
          // A column of finite numbers so far goes straight into its doubles (+ 0: -0 as JSON writes it).
          if (typeof v === "number" && NumberIsFinite(v)) {
            d[r] = v + 0;
            present++;
            continue;
          }
          columns[k] = numbersOf(d, r);
          doubles[k] = null;
          if (r > 0) kinds[k] = KIND_NUMBER;
        }
        let cell = cellOf(v);
        if (cell === ABSENT) cell = null;
        else present++;
        if (cell === null) nulls[k] = true;
        else kinds[k] = kinds[k]! | kindBit(cell);
        // Every column holds r values here: an indexed store appends (no call through push).
        columns[k]![r] = cell;
      }
      continue;
    }
    // Rows with other fields: every column becomes a plain array (this path is for uneven rows only).
    for (let c = 0; c < doubles.length; c++) {
      const d = doubles[c];
      if (d) {
        columns[c] = numbersOf(d, r);
        doubles[c] = null;
        if (r > 0) kinds[c] = KIND_NUMBER;
      }
    }
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const cell = cellOf(values[key]);
      let c = index.get(key);
      if (c === undefined) {
        // A field first seen here; one whose value has no JSON form adds no column (JSON.stringify drops it).
        if (cell === ABSENT) continue;
        filled += r;
        if (filled > sparseLimit(present)) return null;
        c = names.length;
        index.set(key, c);
        const column: unknown[] = [];
        for (let i = 0; i < r; i++) arrayPush(column, null);
        arrayPush(names, key);
        arrayPush(columns, column);
        arrayPush(kinds, 0);
        arrayPush(nulls, r > 0);
        // A column that starts in the first row with a finite number is kept as doubles while it stays one.
        arrayPush(doubles, r === 0 && typeof cell === "number" ? new Float64ArrayCtor(n) : null);
      }
      const d = doubles[c];
      if (d) {
        // Only in the first row (later rows that reach this path turned every column into an array).
        d[r] = (cell as number) + 0;
        present++;
        continue;
      }
      const column = columns[c]!;
      if (column.length > r) continue; // a key listed twice (a Proxy's ownKeys): the first wins
      if (cell === ABSENT || cell === null) {
        if (cell !== ABSENT) present++;
        nulls[c] = true;
        arrayPush(column, null);
        continue;
      }
      present++;
      kinds[c] = kinds[c]! | kindBit(cell);
      arrayPush(column, cell);
    }
    // Columns this row lacks get a null.
    for (let c = 0; c < columns.length; c++) {
      if (doubles[c]) continue;
      const column = columns[c]!;
      if (column.length === r) {
        arrayPush(column, null);
        nulls[c] = true;
        filled++;
      }
    }
    if (filled > sparseLimit(present)) return null;
  }
  // Row objects list integer-like keys ("7") first whatever their order; when such a field appears after
  // others, the rows the host rebuilds would list their fields in another order than the row transport's
  // first-seen one (the column order of a table load creates): leave those rows to the row transport.
  if (!enumeratesInOrder(names)) return null;
  // The texts are concatenated, not joined: V8 keeps the concatenation as a rope that the copy out of the
  // isolate reads piece by piece, so the payload does not exist twice in the isolate's heap (a large load
  // runs near the isolate's memory limit). Each column is dropped once written.
  let body = "";
  const header: unknown[] = [];
  for (let c = 0; c < columns.length; c++) {
    const d = doubles[c];
    const asDoubles = d !== null || (kinds[c] === KIND_NUMBER && !nulls[c]);
    const text = d ? bytesText(d) : asDoubles ? bytesText(toDoubles(columns[c]!)) : JSONStringify(columns[c]);
    columns[c] = [];
    doubles[c] = null;
    body += text;
    arrayPush(header, [names[c], asDoubles ? "f" : kindLetter(kinds[c]!), text.length]);
  }
  const head = part ? { handle, options, rows: n, columns: header, load: part.load, part: part.part } : { handle, options, rows: n, columns: header };
  return JSONStringify(head) + "\n" + body;
}
