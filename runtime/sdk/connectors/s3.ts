/**
 * `s3`: objects in an S3 (or S3-compatible: MinIO, R2, …) bucket read and written as rows (guest side). The
 * AWS client runs on the host; credentials are secret references the host substitutes.
 */
import { callSite } from "../bridge";
import { createConnectorCore } from "../connector-handle";
import { createSdkError, fillSdkError, type TauSdkError } from "../errors";
import { ArrayIsArray, NumberIsInteger, ObjectDefineProperty, ObjectFreeze, asyncDisposeSymbol } from "../primordials";
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, createRowStream, type RowStream } from "../row-stream";
import type { Row } from "../sql-connector";

/**
 * Options of `s3`. `region` defaults to `"us-east-1"`; `endpoint` points at an S3-compatible store (then
 * `forcePathStyle` defaults to true). `accessKeyId` and `secretAccessKey` are required — pass them with
 * `ctx.secret(…)`; the executor's own AWS identity is never used for a pipeline. The tenant's egress policy
 * must allow the host the client connects to: the endpoint's host with path style, else
 * `<bucket>.s3.<region>.amazonaws.com` (port 443).
 *
 * @example
 * ```ts
 * const aws: S3Options = {
 *   bucket: "acme-exports", region: "eu-west-1",
 *   accessKeyId: ctx.secret("AWS_ACCESS_KEY_ID"), secretAccessKey: ctx.secret("AWS_SECRET_ACCESS_KEY"),
 * };
 * const minio: S3Options = { bucket: "raw", endpoint: "http://minio.internal:9000", accessKeyId: ctx.secret("MINIO_KEY"), secretAccessKey: ctx.secret("MINIO_SECRET") };
 * ```
 */
export interface S3Options {
  bucket: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * One object as `list` describes it; `lastModified` is ISO-8601, `etag` without quotes.
 *
 * @example
 * ```ts
 * const objects: S3Object[] = await bucket.list("exports/2026-01-"); // [{ key: "exports/2026-01-01.csv", size: 5120, lastModified: "…", etag: "…" }]
 * ```
 */
export interface S3Object {
  key: string;
  size: number;
  lastModified: string | null;
  etag: string | null;
}

/**
 * Row formats of objects. Without a format, the key's extension decides: `.csv`, `.tsv` (tab-delimited CSV),
 * `.jsonl`/`.ndjson`, `.json` (one array of objects), `.parquet`/`.pq`; a trailing `.gz` (`orders.csv.gz`) is
 * gunzipped on read and gzip-compressed on write.
 *
 * @example
 * ```ts
 * const format: S3Format = "jsonl";
 * ```
 */
export type S3Format = "csv" | "jsonl" | "json" | "parquet";

/**
 * CSV options: `header` (default true: the first record names the columns; false: columns are `column1`,
 * `column2`, …) and a one-character `delimiter` (default `","`). Reading, CSV values are strings, an unquoted
 * empty field is null and a quoted one (`""`) the empty string; writing, nested values are written as JSON.
 *
 * @example
 * ```ts
 * const csv: S3CsvOptions = { header: false, delimiter: ";" };
 * ```
 */
export interface S3CsvOptions {
  header?: boolean;
  delimiter?: string;
}

/**
 * Options of `read` and `write`.
 *
 * @example
 * ```ts
 * const opts: S3ReadOptions = { format: "csv", csv: { delimiter: "|" } };
 * ```
 */
export interface S3ReadOptions {
  format?: S3Format;
  csv?: S3CsvOptions;
}

/**
 * Options of `stream`: those of `read`, plus `batchSize` (default 10,000 rows per batch).
 *
 * @example
 * ```ts
 * const opts: S3StreamOptions = { format: "jsonl", batchSize: 2_000 };
 * ```
 */
export interface S3StreamOptions extends S3ReadOptions {
  batchSize?: number;
}

/**
 * Options of `write` (the same as `read`'s).
 *
 * @example
 * ```ts
 * const opts: S3WriteOptions = { format: "parquet" };
 * ```
 */
export type S3WriteOptions = S3ReadOptions;

/**
 * What `write` resolves to.
 *
 * @example
 * ```ts
 * const { rows, bytes }: S3WriteResult = await bucket.write("out/orders.parquet", orders);
 * ```
 */
export interface S3WriteResult {
  key: string;
  rows: number;
  bytes: number;
}

/**
 * A handle on one bucket. Failures come back as codes: TAU_E_CONNECTOR_UNKNOWN_OBJECT (no such key or
 * bucket), TAU_E_CONNECTOR_AUTH_FAILED (bad key or signature), TAU_E_CONNECTOR_PERMISSION_DENIED (access
 * denied), TAU_E_CONNECTOR_UNREACHABLE, TAU_E_CONNECTOR_DATA_INVALID (an object that does not parse in its
 * format), TAU_E_POLICY_DENIED (an endpoint the tenant may not reach).
 *
 * @example
 * ```ts
 * await using bucket = s3({ bucket: "acme-exports", accessKeyId: ctx.secret("AWS_ACCESS_KEY_ID"), secretAccessKey: ctx.secret("AWS_SECRET_ACCESS_KEY") });
 * for (const object of await bucket.list("daily/")) ctx.log("found", { key: object.key, size: object.size });
 * ```
 */
export interface S3Connector extends AsyncDisposable {
  readonly kind: "s3";
  /**
   * Lists every object whose key starts with `prefix` (all of the bucket without one), across S3's pages;
   * capped by the policy's rows per extract.
   *
   * @example
   * ```ts
   * const keys = (await bucket.list("exports/")).map((o) => o.key);
   * ```
   */
  list(prefix?: string): Promise<S3Object[]>;
  /**
   * Reads an object as rows (capped by the policy's rows per extract; use `stream` for bigger objects).
   *
   * @example
   * ```ts
   * const orders = await bucket.read<{ id: string; amount: string }>("exports/orders.csv");
   * const events = await bucket.read("raw/events.log", { format: "jsonl" });
   * ```
   */
  read<T = Row>(key: string, options?: S3ReadOptions): Promise<T[]>;
  /**
   * Reads an object as batches of rows, holding one batch at a time.
   *
   * @example
   * ```ts
   * for await (const batch of bucket.stream("exports/big.parquet", { batchSize: 5_000 })) {
   *   await db.load(batch, { table: "big" });
   * }
   * ```
   */
  stream<T = Row>(key: string, options?: S3StreamOptions): RowStream<T>;
  /**
   * Writes rows as one object (replacing any object under that key). Parquet column types are inferred from
   * the rows (at least one row is needed).
   *
   * @example
   * ```ts
   * await bucket.write("out/orders.csv", rows);
   * await bucket.write("out/orders.parquet", rows);
   * await bucket.write("out/orders", rows, { format: "jsonl" });
   * ```
   */
  write(key: string, rows: readonly object[], options?: S3WriteOptions): Promise<S3WriteResult>;
  /**
   * Deletes an object. Deleting a key that does not exist succeeds (S3 semantics).
   *
   * @example
   * ```ts
   * await bucket.delete("tmp/staging.jsonl");
   * ```
   */
  delete(key: string): Promise<void>;
  /**
   * Releases the connector; later calls fail with TAU_E_CONNECTOR_CLOSED.
   *
   * @example
   * ```ts
   * const bucket = s3({ bucket: "b", accessKeyId: ctx.secret("K"), secretAccessKey: ctx.secret("S") });
   * try { await bucket.list(); } finally { await bucket.close(); }
   * ```
   */
  close(): Promise<void>;
}

const KIND = "s3";

function argsError(site: TauSdkError, message: string): TauSdkError {
  return fillSdkError(site, "TAU_E_CONNECTOR_ARGS_INVALID", `${KIND}: ${message}`, "Check the call against the s3 documentation in docs/sdk.md.", { kind: KIND }, null);
}

function badAnswer(site: TauSdkError, method: string): TauSdkError {
  return fillSdkError(site, "TAU_E_INTERNAL", `The host answered ${KIND}.${method} with a value of the wrong shape.`, "", {}, null);
}

function isKey(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function isOptions(value: unknown): boolean {
  return value === undefined || (typeof value === "object" && value !== null && !ArrayIsArray(value));
}

function readOptions(options: S3StreamOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (options === undefined) return out;
  if (options.format !== undefined) out.format = options.format;
  if (options.csv !== undefined) out.csv = options.csv;
  return out;
}

/**
 * Opens (lazily, on first use) a connector on one S3 bucket.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local, s3 } from "tau/connectors";
 *
 * export default pipeline({ name: "import_orders" }, async (ctx) => {
 *   await using bucket = s3({
 *     bucket: "acme-exports",
 *     region: "eu-west-1",
 *     accessKeyId: ctx.secret("AWS_ACCESS_KEY_ID"),
 *     secretAccessKey: ctx.secret("AWS_SECRET_ACCESS_KEY"),
 *   });
 *   await using db = duckdb_local();
 *   const rows = await bucket.read("orders/2026-01-31.csv");
 *   return { loaded: await db.load(rows, { table: "raw_orders", mode: "replace" }) };
 * });
 * ```
 */
export function s3(options: S3Options): S3Connector {
  if (typeof options !== "object" || options === null || ArrayIsArray(options) || !isKey(options.bucket)) {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", 's3(options) needs { bucket: "…", accessKeyId, secretAccessKey }.', {
      hint: 'e.g. s3({ bucket: "acme", accessKeyId: ctx.secret("AWS_ACCESS_KEY_ID"), secretAccessKey: ctx.secret("AWS_SECRET_ACCESS_KEY") }).',
      details: { kind: KIND },
    });
  }
  const core = createConnectorCore(KIND, options as unknown as Record<string, unknown>);

  const handle = {
    kind: KIND,
    async list(prefix?: string): Promise<S3Object[]> {
      const site = callSite();
      if (prefix !== undefined && typeof prefix !== "string") throw argsError(site, "list(prefix?) takes the prefix as a string.");
      const value = await core.call("list", [prefix ?? ""], site);
      if (!ArrayIsArray(value)) throw badAnswer(site, "list");
      return value as S3Object[];
    },
    async read<T = Row>(key: string, opts?: S3ReadOptions): Promise<T[]> {
      const site = callSite();
      if (!isKey(key)) throw argsError(site, "read(key, options?) needs the key as a non-empty string.");
      if (!isOptions(opts)) throw argsError(site, "read(key, options?) takes options as an object.");
      const value = await core.call("read", [key, readOptions(opts)], site);
      if (!ArrayIsArray(value)) throw badAnswer(site, "read");
      return value as T[];
    },
    stream<T = Row>(key: string, opts?: S3StreamOptions): RowStream<T> {
      const site = callSite();
      if (!isKey(key)) throw argsError(site, "stream(key, options?) needs the key as a non-empty string.");
      if (!isOptions(opts)) throw argsError(site, "stream(key, options?) takes options as an object.");
      const batchSize = opts?.batchSize ?? DEFAULT_BATCH_SIZE;
      if (typeof batchSize !== "number" || !NumberIsInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw argsError(site, `stream's batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}.`);
      }
      return createRowStream<T>(core, key, [readOptions(opts)], batchSize);
    },
    async write(key: string, rows: readonly object[], opts?: S3WriteOptions): Promise<S3WriteResult> {
      const site = callSite();
      if (!isKey(key)) throw argsError(site, "write(key, rows, options?) needs the key as a non-empty string.");
      if (!ArrayIsArray(rows)) throw argsError(site, "write(key, rows, options?) takes rows as an array of objects.");
      if (!isOptions(opts)) throw argsError(site, "write(key, rows, options?) takes options as an object.");
      const value = (await core.call("write", [key, rows, readOptions(opts)], site)) as S3WriteResult | null;
      if (value === null || typeof value !== "object" || typeof value.rows !== "number") throw badAnswer(site, "write");
      return value;
    },
    async delete(key: string): Promise<void> {
      const site = callSite();
      if (!isKey(key)) throw argsError(site, "delete(key) needs the key as a non-empty string.");
      await core.call("delete", [key], site);
    },
    close(): Promise<void> {
      return core.close();
    },
  };
  ObjectDefineProperty(handle, asyncDisposeSymbol, { value: (): Promise<void> => core.close() });
  return ObjectFreeze(handle) as unknown as S3Connector;
}
