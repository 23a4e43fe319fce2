/**
 * `s3` options and call arguments, validated on the host (they are hostile JSON): `compileS3Options` for
 * `open`, `parseRead` / `parseFormat` / `parseKey` for the methods.
 */
import { TauError } from "../../server/contract";
import { bareHost, portOf } from "./http-api-transport";
import { DEFAULT_CSV, ROW_FORMATS, formatFromKey, type CsvOptions, type RowFormat } from "./s3-formats";

const OPTION_KEYS = ["bucket", "region", "endpoint", "forcePathStyle", "accessKeyId", "secretAccessKey", "sessionToken"];

/**
 * An s3 TAU_E_CONNECTOR_ARGS_INVALID.
 *
 * @example
 * ```ts
 * throw argsInvalid("the key must be a string.", { argument: "key" });
 * ```
 */
export function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", `s3: ${message}`, { kind: "s3", ...details });
}

/**
 * A plain object (not null, not an array).
 *
 * @example
 * ```ts
 * isObject({ format: "csv" }); // true
 * ```
 */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") throw argsInvalid(`${what} must be a non-empty string.`, { option: what });
  return v;
}

/**
 * s3 options after validation.
 *
 * @example
 * ```ts
 * compileS3Options({ bucket: "acme", region: "eu-west-1", accessKeyId, secretAccessKey }).connectHost; // "acme.s3.eu-west-1.amazonaws.com"
 * ```
 */
export interface CompiledS3Options {
  bucket: string;
  region: string;
  endpoint: URL | null;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The host and port the client connects to (what the egress policy is checked for). */
  connectHost: string;
  port: number;
}

/**
 * Validates and defaults s3's options. `forcePathStyle` defaults to true with a custom endpoint (MinIO, s3rver, R2).
 *
 * @example
 * ```ts
 * const o = compileS3Options({ bucket: "raw", endpoint: "http://127.0.0.1:9000", accessKeyId: "k", secretAccessKey: "s" });
 * o.forcePathStyle; // true
 * o.connectHost;    // "127.0.0.1"
 * ```
 */
export function compileS3Options(options: Record<string, unknown>): CompiledS3Options {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw argsInvalid(`there is no option '${key.slice(0, 60)}' (options: ${OPTION_KEYS.join(", ")}).`, { option: key.slice(0, 60) });
  }
  const bucket = optString(options.bucket, "bucket");
  if (bucket === undefined || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw argsInvalid("bucket must be an S3 bucket name (3–63 lowercase letters, digits, '.', '-').", { option: "bucket" });
  }
  const region = optString(options.region, "region") ?? "us-east-1";
  if (!/^[a-z0-9-]+$/.test(region)) throw argsInvalid("region must look like us-east-1.", { option: "region" });
  const rawEndpoint = optString(options.endpoint, "endpoint");
  let endpoint: URL | null = null;
  if (rawEndpoint !== undefined) {
    try {
      endpoint = new URL(rawEndpoint);
    } catch {
      throw argsInvalid("endpoint must be a URL such as https://minio.internal:9000.", { option: "endpoint" });
    }
    if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") throw argsInvalid("endpoint must be an http or https URL.", { option: "endpoint" });
    if (endpoint.username !== "" || endpoint.password !== "") throw argsInvalid("endpoint must not carry credentials.", { option: "endpoint" });
  }
  if (options.forcePathStyle !== undefined && options.forcePathStyle !== null && typeof options.forcePathStyle !== "boolean") {
    throw argsInvalid("forcePathStyle must be a boolean.", { option: "forcePathStyle" });
  }
  const forcePathStyle = (options.forcePathStyle as boolean | undefined | null) ?? endpoint !== null;
  const accessKeyId = optString(options.accessKeyId, "accessKeyId");
  const secretAccessKey = optString(options.secretAccessKey, "secretAccessKey");
  const sessionToken = optString(options.sessionToken, "sessionToken");
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw argsInvalid('accessKeyId and secretAccessKey are required, e.g. s3({ bucket, accessKeyId: ctx.secret("AWS_ACCESS_KEY_ID"), secretAccessKey: ctx.secret("AWS_SECRET_ACCESS_KEY") }).', {
      option: accessKeyId === undefined ? "accessKeyId" : "secretAccessKey",
    });
  }
  const baseHost = endpoint ? bareHost(endpoint.hostname) : `s3.${region}.amazonaws.com`;
  if (!forcePathStyle && bucket.includes(".")) throw argsInvalid("a bucket name with dots needs forcePathStyle: true.", { option: "forcePathStyle" });
  return {
    bucket,
    region,
    endpoint,
    forcePathStyle,
    credentials: sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken },
    connectHost: forcePathStyle ? baseHost : `${bucket}.${baseHost}`,
    port: endpoint ? portOf(endpoint) : 443,
  };
}

/**
 * A validated read: the key, its format and CSV options.
 *
 * @example
 * ```ts
 * const req: ReadRequest = parseRead("in/orders.csv", {}); // { key: "in/orders.csv", format: "csv", csv: { header: true, delimiter: "," } }
 * ```
 */
export interface ReadRequest {
  key: string;
  format: RowFormat;
  csv: CsvOptions;
}

/**
 * @example
 * ```ts
 * parseKey("exports/a.csv"); // "exports/a.csv"
 * ```
 */
export function parseKey(v: unknown): string {
  if (typeof v !== "string" || v === "" || Buffer.byteLength(v) > 1024) throw argsInvalid("the key must be a non-empty string of at most 1024 bytes.", { argument: "key" });
  return v;
}

/**
 * The format (explicit, else from the key's extension) and CSV options of a read or write.
 *
 * @example
 * ```ts
 * parseFormat("in/data.tsv", {}, "read"); // { format: "csv", csv: { header: true, delimiter: "\t" } }
 * ```
 */
export function parseFormat(key: string, optsArg: unknown, method: "read" | "write" | "stream"): { format: RowFormat; csv: CsvOptions } {
  const opts = optsArg === undefined || optsArg === null ? {} : optsArg;
  if (!isObject(opts)) throw argsInvalid(`${method}: options must be an object like { format: "csv" }.`);
  for (const k of Object.keys(opts)) if (k !== "format" && k !== "csv") throw argsInvalid(`${method} has no option '${k.slice(0, 60)}' (format, csv).`);
  const implied = formatFromKey(key);
  const format = opts.format ?? implied?.format;
  if (format === undefined) {
    throw argsInvalid(`cannot tell the format of ${JSON.stringify(key.slice(0, 200))} from its extension; pass { format: "csv" | "jsonl" | "json" | "parquet" }.`, { argument: "format" });
  }
  if (!ROW_FORMATS.includes(format as RowFormat)) throw argsInvalid(`format must be one of ${ROW_FORMATS.join(", ")}.`, { argument: "format" });
  const csvOpts = opts.csv === undefined || opts.csv === null ? {} : opts.csv;
  if (!isObject(csvOpts)) throw argsInvalid("csv options must be an object like { header: true, delimiter: \",\" }.");
  for (const k of Object.keys(csvOpts)) if (k !== "header" && k !== "delimiter") throw argsInvalid(`csv has no option '${k.slice(0, 60)}' (header, delimiter).`);
  const header = csvOpts.header ?? DEFAULT_CSV.header;
  if (typeof header !== "boolean") throw argsInvalid("csv.header must be a boolean.");
  const delimiter = csvOpts.delimiter ?? (opts.format === undefined ? implied?.delimiter : undefined) ?? DEFAULT_CSV.delimiter;
  if (typeof delimiter !== "string" || delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw argsInvalid("csv.delimiter must be one character other than a quote or a line break.");
  }
  return { format: format as RowFormat, csv: { header, delimiter } };
}

/**
 * @example
 * ```ts
 * parseRead("raw/events", { format: "jsonl" }); // { key: "raw/events", format: "jsonl", csv: { … } }
 * ```
 */
export function parseRead(keyArg: unknown, optsArg: unknown): ReadRequest {
  const key = parseKey(keyArg);
  return { key, ...parseFormat(key, optsArg, "read") };
}

