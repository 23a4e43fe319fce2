/**
 * The columnar row transport, host end: decodes a `connector.load` payload (docs/bridge-protocol.md; the
 * guest end is runtime/sdk/row-batch.ts) into a ColumnBatch, treating every byte as hostile.
 *
 *   {"handle":"h1","options":{…},"rows":N,"columns":[[name, kind, chars], …]}\n<column text><column text>…
 *
 * Checked before anything is parsed: the whole text against `bridgeBytes`, the header against the JSON
 * guard, the column lengths against the text (they must add up exactly), and each column's nesting: the
 * kinds `n` and `b` may hold no bracket, brace or quote after the opening `[` (a flat array, found with native
 * indexOf instead of a walk over every character), `s` at most depth 1 (strings skipped), `j` the policy's
 * depth less the three levels a value sits at inside the row transport's payload (so both transports accept
 * the same nesting). Then each column is parsed and must be an array of exactly N values of its kind.
 * Kind `f` (numbers as the bytes of their doubles) must be exactly 8·N characters and every double finite
 * (JSON has no NaN or Infinity); it becomes a Float64Array, with -0 read as 0 as JSON would give it.
 * Any failure is TAU_E_BRIDGE_PAYLOAD_INVALID (or _TOO_LARGE), and nothing has been loaded.
 */
import { ColumnBatch } from "../../runtime/connectors";
import { TauError } from "../../server/contract";
import { isJsonObject, jsonDepth, parseGuardedJson, utf8Bytes, type JsonLimits } from "../json-guard";
import { capText } from "./run-error";

/** What `connector.load` carries, decoded. */
export interface DecodedRowBatch {
  handle: unknown;
  options: unknown;
  batch: ColumnBatch;
  /** A part of a pipelined load (pipelined-load.ts): the header's `load` and `part`, unchecked. */
  load?: unknown;
  part?: unknown;
}

/** The load id of a part whose header parsed but whose columns were refused (set on the thrown error). */
export const PART_OF = Symbol("partOf");

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The largest header line (column names and kinds, load options). */
export const MAX_HEADER_CHARS = 4 * 1024 * 1024;
/** Levels above a field's value in the row transport's payload: {args: [rows: [row: {…}]]}. */
const ROW_PAYLOAD_LEVELS = 3;

function invalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_BRIDGE_PAYLOAD_INVALID", `The load's rows are malformed: ${message}`, details);
}

/** Decodes and validates a `connector.load` payload. Throws a TauError; never crashes on any input. */
export function decodeRowBatch(text: unknown, limits: JsonLimits): DecodedRowBatch {
  if (typeof text !== "string") throw invalid(`the payload must be a string, got ${text === null ? "null" : typeof text}.`);
  if (text.length > limits.maxBytes || utf8Bytes(text) > limits.maxBytes) {
    const err = new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The payload is larger than ${limits.maxBytes} bytes.`, { limitBytes: limits.maxBytes });
    // A part of a pipelined load: its load fails with this error (the final call reports it).
    const end = text.indexOf("\n");
    if (end > 0 && end <= MAX_HEADER_CHARS) {
      const head = parseGuardedJson(text.slice(0, end), limits, "header");
      if (head.ok && isJsonObject(head.value) && "load" in head.value) Object.defineProperty(err, PART_OF, { value: head.value.load });
    }
    throw err;
  }
  const nl = text.indexOf("\n");
  if (nl < 0 || nl > MAX_HEADER_CHARS) throw invalid("no header line (or one longer than 4 MiB).");
  const parsed = parseGuardedJson(text.slice(0, nl), limits, "header");
  if (!parsed.ok) throw invalid(parsed.problem.message);
  const header = parsed.value;
  if (!isJsonObject(header)) throw invalid("the header is not an object.");
  try {
    return decodeBody(text, nl, header, limits);
  } catch (err) {
    if ("load" in header && typeof err === "object" && err !== null) Object.defineProperty(err, PART_OF, { value: header.load });
    throw err;
  }
}

function decodeBody(text: string, nl: number, header: Record<string, unknown>, limits: JsonLimits): DecodedRowBatch {
  const rows = header.rows;
  if (typeof rows !== "number" || !Number.isSafeInteger(rows) || rows < 0) throw invalid("the header's row count is not a non-negative integer.");
  if (!Array.isArray(header.columns)) throw invalid("the header has no column list.");
  const specs = header.columns as unknown[];
  const names: string[] = [];
  const kinds: string[] = [];
  const lengths: number[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (let c = 0; c < specs.length; c++) {
    const spec = specs[c];
    if (!Array.isArray(spec) || spec.length !== 3) throw invalid(`column ${c} is not [name, kind, length].`, { column: c });
    const [name, kind, chars] = spec as [unknown, unknown, unknown];
    if (typeof name !== "string") throw invalid(`column ${c}'s name is not a string.`, { column: c });
    if (seen.has(name)) throw invalid(`column '${capText(name, 60)}' is listed twice.`, { column: capText(name, 60) });
    if (kind !== "n" && kind !== "s" && kind !== "b" && kind !== "j" && kind !== "f") throw invalid(`column '${capText(name, 60)}' has an unknown kind.`, { column: capText(name, 60) });
    if (typeof chars !== "number" || !Number.isSafeInteger(chars) || chars < (kind === "f" ? 0 : 2)) throw invalid(`column '${capText(name, 60)}' has an invalid length.`, { column: capText(name, 60) });
    seen.add(name);
    names.push(name);
    kinds.push(kind);
    lengths.push(chars);
    total += chars;
  }
  if (total !== text.length - nl - 1) {
    throw invalid(`the column lengths add up to ${total} characters, but ${text.length - nl - 1} follow the header.`);
  }
  const columns: ArrayLike<unknown>[] = [];
  let at = nl + 1;
  for (let c = 0; c < names.length; c++) {
    const body = text.slice(at, at + lengths[c]);
    at += lengths[c];
    columns.push(kinds[c] === "f" ? decodeDoubles(body, names[c], rows) : decodeColumn(body, names[c], kinds[c], rows, limits));
  }
  const decoded: DecodedRowBatch = { handle: header.handle, options: header.options, batch: new ColumnBatch(names, columns, rows) };
  if ("load" in header) {
    decoded.load = header.load;
    decoded.part = header.part;
  }
  return decoded;
}

/** Kind `f`: 8 characters (bytes 0–255) per value, the little-endian bytes of a finite double. */
function decodeDoubles(body: string, name: string, rows: number): Float64Array {
  const shown = capText(name, 60);
  if (!LITTLE_ENDIAN) throw new TauError("TAU_E_INTERNAL", "The columnar transport needs a little-endian host.");
  if (body.length !== rows * 8) throw invalid(`column '${shown}' has ${body.length} characters for ${rows} doubles (8 each).`, { column: shown, rows });
  const bytes = Buffer.from(body, "latin1");
  const values = new Float64Array(rows);
  new Uint8Array(values.buffer).set(bytes);
  for (let r = 0; r < rows; r++) {
    const v = values[r];
    if (v - v !== 0) throw invalid(`column '${shown}' holds a value that is not a finite number at row ${r}.`, { column: shown, row: r });
    if (v === 0) values[r] = 0;
  }
  return values;
}

function decodeColumn(body: string, name: string, kind: string, rows: number, limits: JsonLimits): unknown[] {
  const shown = capText(name, 60);
  if (body.charCodeAt(0) !== 91 /* [ */ || body.charCodeAt(body.length - 1) !== 93 /* ] */) throw invalid(`column '${shown}' is not a JSON array.`, { column: shown });
  const maxDepth = kind === "j" ? Math.max(1, limits.maxDepth - ROW_PAYLOAD_LEVELS) : 1;
  if (kind === "n" || kind === "b") {
    if (body.indexOf("[", 1) >= 0 || body.indexOf("{") >= 0 || body.indexOf('"') >= 0) {
      throw invalid(`column '${shown}' says it holds only ${kind === "n" ? "numbers" : "booleans"} but holds other values.`, { column: shown });
    }
  } else if (kind === "s" && body.indexOf("[", 1) < 0 && body.indexOf("{") < 0) {
    // No bracket after the opening one and no brace, in strings or not: flat, without walking the strings.
  } else if (jsonDepth(body, maxDepth) > maxDepth) {
    throw invalid(kind === "j" ? `a value in column '${shown}' nests deeper than ${maxDepth} levels.` : `column '${shown}' says it holds only strings but holds other values.`, {
      column: shown,
      ...(kind === "j" ? { maxDepth } : {}),
    });
  }
  let values: unknown;
  try {
    values = JSON.parse(body);
  } catch (err) {
    throw invalid(`column '${shown}' is not valid JSON (${capText((err as Error).message, 120)}).`, { column: shown });
  }
  if (!Array.isArray(values)) throw invalid(`column '${shown}' is not a JSON array.`, { column: shown });
  if (values.length !== rows) throw invalid(`column '${shown}' has ${values.length} values; the header says ${rows} rows.`, { column: shown, rows, values: values.length });
  const want = kind === "n" ? "number" : kind === "s" ? "string" : kind === "b" ? "boolean" : null;
  if (want !== null) {
    for (let r = 0; r < values.length; r++) {
      const v: unknown = values[r];
      if (v !== null && typeof v !== want) throw invalid(`column '${shown}' says it holds only ${want}s but row ${r} holds another value.`, { column: shown, row: r });
    }
  }
  return values as unknown[];
}
