/**
 * Row formats of `s3` objects, without the S3 part: a streaming CSV parser (RFC 4180 quotes, quoted
 * newlines, doubled quotes, CRLF/LF/CR line ends, a leading UTF-8 BOM), JSON lines, JSON arrays, and the
 * writers for each. Parquet goes through DuckDB (s3-parquet.ts). Parse failures are TAU_E_CONNECTOR_DATA_INVALID
 * naming the record or line.
 */
import { StringDecoder } from "node:string_decoder";
import { TauError } from "../../server/contract";

/**
 * The row formats `s3` reads and writes.
 *
 * @example
 * ```ts
 * const format: RowFormat = formatFromKey("exports/a.parquet")?.format ?? "csv";
 * ```
 */
export type RowFormat = "csv" | "jsonl" | "json" | "parquet";
/**
 * Every RowFormat, for validation.
 *
 * @example
 * ```ts
 * ROW_FORMATS.includes(value as RowFormat);
 * ```
 */
export const ROW_FORMATS: readonly RowFormat[] = ["csv", "jsonl", "json", "parquet"];

/**
 * @example
 * ```ts
 * const tsv: CsvOptions = { header: true, delimiter: "\t" };
 * ```
 */
export interface CsvOptions {
  /** First record holds the column names (default true); otherwise columns are column1, column2, … */
  header: boolean;
  /** One character (default ","). */
  delimiter: string;
}

/**
 * CSV defaults: a header row, comma-delimited.
 *
 * @example
 * ```ts
 * const options: CsvOptions = { ...DEFAULT_CSV, delimiter: ";" };
 * ```
 */
export const DEFAULT_CSV: CsvOptions = { header: true, delimiter: "," };

/**
 * One row object.
 *
 * @example
 * ```ts
 * const row: Row = { id: "1", name: "Ada" };
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * Whether a key names a gzip-compressed object (`….gz`): read through gunzip, written gzip-compressed.
 *
 * @example
 * ```ts
 * isGzipKey("exports/orders.csv.gz"); // true
 * ```
 */
export function isGzipKey(key: string): boolean {
  return /\.gz$/i.test(key);
}

/**
 * The format a key's extension implies (`.csv`, `.tsv` → csv, `.jsonl`/`.ndjson` → jsonl, `.json`, `.parquet`/`.pq`;
 * a trailing `.gz` is looked through), or null.
 *
 * @example
 * ```ts
 * formatFromKey("in/data.tsv");       // { format: "csv", delimiter: "\t" }
 * formatFromKey("in/events.jsonl.gz"); // { format: "jsonl" }
 * formatFromKey("in/readme.txt");     // null
 * ```
 */
export function formatFromKey(key: string): { format: RowFormat; delimiter?: string } | null {
  const ext = /\.([A-Za-z0-9]+)$/.exec(key.replace(/\.gz$/i, ""))?.[1]?.toLowerCase();
  switch (ext) {
    case "csv":
      return { format: "csv" };
    case "tsv":
      return { format: "csv", delimiter: "\t" };
    case "jsonl":
    case "ndjson":
      return { format: "jsonl" };
    case "json":
      return { format: "json" };
    case "parquet":
    case "pq":
      return { format: "parquet" };
    default:
      return null;
  }
}

function dataInvalid(format: RowFormat, where: string, message: string): TauError {
  return new TauError("TAU_E_CONNECTOR_DATA_INVALID", `s3: ${message}`, { kind: "s3", format, where });
}

const START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * A push parser for CSV text. Unquoted empty fields are null; quoted ones (`""`) are empty strings; every other
 * value is the field's text (no type guessing). Blank lines are skipped.
 *
 * @example
 * ```ts
 * const records: (string | null)[][] = [];
 * const parser = new CsvParser(",");
 * parser.push('id,name\n1,"Ada, C', records);
 * parser.push('ountess"\n', records);
 * parser.end(records); // [["id", "name"], ["1", "Ada, Countess"]]
 * ```
 */
export class CsvParser {
  private state = START;
  private field = "";
  private quoted = false;
  private record: (string | null)[] = [];
  private skipLf = false;
  private first = true;
  /** 1-based number of the record being read (for messages). */
  private recordNo = 1;

  constructor(private readonly delimiter: string) {}

  /** Parses `text`, appending every completed record to `out`. */
  push(text: string, out: (string | null)[][]): void {
    let i = 0;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const d = this.delimiter;
    const n = text.length;
    while (i < n) {
      const c = text[i];
      if (this.skipLf) {
        this.skipLf = false;
        if (c === "\n") {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case START:
          if (c === '"') {
            this.state = QUOTED;
            this.quoted = true;
            i++;
          } else if (c === d) {
            this.endField();
            i++;
          } else if (c === "\n" || c === "\r") {
            this.endRecord(out);
            this.skipLf = c === "\r";
            i++;
          } else {
            this.state = UNQUOTED;
          }
          break;
        case UNQUOTED: {
          let j = i;
          while (j < n && text[j] !== d && text[j] !== "\n" && text[j] !== "\r") j++;
          this.field += text.slice(i, j);
          i = j;
          if (i < n) {
            const e = text[i];
            if (e === d) this.endField();
            else {
              this.endRecord(out);
              this.skipLf = e === "\r";
            }
            i++;
          }
          break;
        }
        case QUOTED: {
          const j = text.indexOf('"', i);
          if (j < 0) {
            this.field += text.slice(i);
            i = n;
          } else {
            this.field += text.slice(i, j);
            this.state = QUOTE_IN_QUOTED;
            i = j + 1;
          }
          break;
        }
        case QUOTE_IN_QUOTED:
          if (c === '"') {
            this.field += '"';
            this.state = QUOTED;
          } else if (c === d) {
            this.endField();
          } else if (c === "\n" || c === "\r") {
            this.endRecord(out);
            this.skipLf = c === "\r";
          } else {
            throw dataInvalid("csv", `record ${this.recordNo}`, `CSV record ${this.recordNo}: unexpected ${JSON.stringify(c)} after a closing quote.`);
          }
          i++;
          break;
      }
    }
  }

  /** Ends the input: completes a last record without a line end; an open quote is an error. */
  end(out: (string | null)[][]): void {
    if (this.state === QUOTED) throw dataInvalid("csv", `record ${this.recordNo}`, `CSV record ${this.recordNo}: a quoted field is not closed before the end of the object.`);
    if (this.state === START && this.record.length === 0 && this.field === "" && !this.quoted) return;
    this.endRecord(out);
  }

  private endField(): void {
    this.record.push(this.quoted ? this.field : this.field === "" ? null : this.field);
    this.field = "";
    this.quoted = false;
    this.state = START;
  }

  private endRecord(out: (string | null)[][]): void {
    this.endField();
    const blank = this.record.length === 1 && this.record[0] === null;
    if (!blank) {
      out.push(this.record);
      this.recordNo++;
    }
    this.record = [];
  }
}

/**
 * Turns CSV records into row objects (header names, or column1…).
 *
 * @example
 * ```ts
 * const rows: Row[] = [];
 * new CsvRows({ header: true, delimiter: "," }).add([["id", "name"], ["1", "Ada"]], rows); // [{ id: "1", name: "Ada" }]
 * ```
 */
export class CsvRows {
  private names: string[] | null = null;
  private recordNo = 0;

  constructor(private readonly options: CsvOptions) {}

  add(records: (string | null)[][], out: Row[]): void {
    for (const rec of records) {
      this.recordNo++;
      if (this.names === null) {
        if (this.options.header) {
          this.names = headerNames(rec);
          continue;
        }
        this.names = rec.map((_v, i) => `column${i + 1}`);
      }
      const names = this.names;
      if (rec.length > names.length) {
        throw dataInvalid("csv", `record ${this.recordNo}`, `CSV record ${this.recordNo} has ${rec.length} fields, more than the ${names.length} columns of the first record.`);
      }
      const row: Row = {};
      for (let i = 0; i < names.length; i++) row[names[i]] = i < rec.length ? rec[i] : null;
      out.push(row);
    }
  }
}

function headerNames(rec: (string | null)[]): string[] {
  const seen = new Map<string, number>();
  return rec.map((v, i) => {
    const base = v === null || v.trim() === "" ? `column${i + 1}` : v;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}_${count + 1}`;
  });
}

/**
 * Reads rows from a byte stream in batches of about `batchSize` rows. csv and jsonl stream; json is parsed whole
 * (its size is capped by `maxJsonBytes`). Parquet is not handled here.
 *
 * @example
 * ```ts
 * for await (const batch of rowBatches(createReadStream("orders.csv"), "csv", DEFAULT_CSV, 10_000, 64 << 20)) console.log(batch.length);
 * ```
 */
export async function* rowBatches(
  body: AsyncIterable<Uint8Array>,
  format: "csv" | "jsonl" | "json",
  csv: CsvOptions,
  batchSize: number,
  maxJsonBytes: number,
): AsyncGenerator<Row[]> {
  const decoder = new StringDecoder("utf8");
  if (format === "json") {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > maxJsonBytes) {
        throw new TauError("TAU_E_CONNECTOR_RESPONSE_TOO_LARGE", `s3: the JSON object is larger than ${maxJsonBytes} bytes; store big data sets as JSON lines or Parquet and stream them.`, {
          kind: "s3",
          limitBytes: maxJsonBytes,
        });
      }
      chunks.push(Buffer.from(chunk));
    }
    let value: unknown;
    try {
      const text = Buffer.concat(chunks).toString("utf8");
      value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (err) {
      throw dataInvalid("json", "object", `the object is not valid JSON (${(err as Error).message.slice(0, 200)}).`);
    }
    if (!Array.isArray(value)) throw dataInvalid("json", "object", "a JSON object read as rows must hold an array of objects.");
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== "object" || value[i] === null || Array.isArray(value[i])) throw dataInvalid("json", `element ${i}`, `element ${i} of the JSON array is not an object.`);
    }
    for (let i = 0; i < value.length; i += batchSize) yield value.slice(i, i + batchSize) as Row[];
    return;
  }
  let pending: Row[] = [];
  if (format === "csv") {
    const parser = new CsvParser(csv.delimiter);
    const rows = new CsvRows(csv);
    const records: (string | null)[][] = [];
    for await (const chunk of body) {
      parser.push(decoder.write(Buffer.from(chunk)), records);
      rows.add(records.splice(0), pending);
      while (pending.length >= batchSize) {
        yield pending.slice(0, batchSize);
        pending = pending.slice(batchSize);
      }
    }
    parser.push(decoder.end(), records);
    parser.end(records);
    rows.add(records.splice(0), pending);
  } else {
    let carry = "";
    let lineNo = 0;
    const take = (line: string): void => {
      lineNo++;
      const t = lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1).trim() : line.trim();
      if (t === "") return;
      let value: unknown;
      try {
        value = JSON.parse(t);
      } catch {
        throw dataInvalid("jsonl", `line ${lineNo}`, `line ${lineNo} is not valid JSON.`);
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw dataInvalid("jsonl", `line ${lineNo}`, `line ${lineNo} is not a JSON object.`);
      pending.push(value as Row);
    };
    for await (const chunk of body) {
      const text = carry + decoder.write(Buffer.from(chunk));
      const lines = text.split("\n");
      carry = lines.pop() ?? "";
      for (const line of lines) take(line);
      while (pending.length >= batchSize) {
        yield pending.slice(0, batchSize);
        pending = pending.slice(batchSize);
      }
    }
    take(carry + decoder.end());
  }
  while (pending.length > 0) {
    yield pending.slice(0, batchSize);
    pending = pending.slice(batchSize);
  }
}

/**
 * The columns of `rows` in first-seen order.
 *
 * @example
 * ```ts
 * columnsOf([{ a: 1 }, { b: 2, a: 3 }]); // ["a", "b"]
 * ```
 */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) seen.add(k);
  return [...seen];
}

function csvField(value: unknown, delimiter: string): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  // An empty string is quoted so that it reads back as "" rather than null.
  if (text === "" || text.includes(delimiter) || /["\r\n]/.test(text) || text !== text.trim()) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/**
 * Rows as CSV text (LF line ends, a header row unless `header` is false). Nested values are written as JSON.
 *
 * @example
 * ```ts
 * writeCsv([{ id: 1, name: "Ada, Countess" }], DEFAULT_CSV); // 'id,name\n1,"Ada, Countess"\n'
 * ```
 */
export function writeCsv(rows: readonly Row[], options: CsvOptions): string {
  const columns = columnsOf(rows);
  const lines: string[] = [];
  if (options.header && columns.length > 0) lines.push(columns.map((c) => csvField(c, options.delimiter)).join(options.delimiter));
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c], options.delimiter)).join(options.delimiter));
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * Rows as JSON lines.
 *
 * @example
 * ```ts
 * writeJsonl([{ a: 1 }, { a: 2 }]); // '{"a":1}\n{"a":2}\n'
 * ```
 */
export function writeJsonl(rows: readonly Row[]): string {
  let out = "";
  for (const row of rows) out += `${JSON.stringify(row)}\n`;
  return out;
}
