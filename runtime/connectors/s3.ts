/**
 * `s3`: objects in an S3 (or S3-compatible) bucket as rows, host side. @aws-sdk/client-s3 is loaded lazily
 * in `open`. The egress policy is checked for the host the client really connects to (`<bucket>.<endpoint>`
 * for virtual-hosted style, the endpoint's host for path style), and the client's sockets resolve only that
 * host, to the checked address.
 *
 * Methods (`connector.call`): `list [prefix]` → `[{key, size, lastModified, etag}]`, `read [key, opts]` → rows,
 * `write [key, rows, opts]` → `{key, rows, bytes}`, `delete [key]` → `{}`, and `openCursor` (stream).
 * Credentials are required (`accessKeyId`/`secretAccessKey`, from secrets): the executor's own AWS identity
 * (environment, instance profile) is never used on a pipeline's behalf.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { TauError } from "../../server/contract";
import { pinnedLookup, resolveEgress, type CheckedTarget } from "./http-api-transport";
import { convertS3Error } from "./s3-errors";
import { isGzipKey, rowBatches, writeCsv, writeJsonl, type Row, type RowFormat } from "./s3-formats";
import { argsInvalid, compileS3Options, isObject, parseFormat, parseKey, parseRead, type CompiledS3Options, type ReadRequest } from "./s3-options";
import { parquetBatches, writeParquet } from "./s3-parquet";
import { RawJson, type ConnectorContext, type ConnectorDriver, type HostConnector, type RowCursor, type StreamingConnector } from "./types";

/**
 * The connector kind the guest opens (`s3({…})`) and policies name.
 *
 * @example
 * ```ts
 * const allowed = checkConnector(policy, S3_KIND) === null;
 * ```
 */
export const S3_KIND = "s3";
export { compileS3Options, type CompiledS3Options } from "./s3-options";
type S3Sdk = typeof import("@aws-sdk/client-s3");

const CONTENT_TYPES: Record<RowFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson",
  json: "application/json",
  parquet: "application/vnd.apache.parquet",
};
const DEFAULT_BATCH = 10_000;

/**
 * The `s3` driver the ConnectorHost registers; loads @aws-sdk/client-s3 on first open.
 *
 * @example
 * ```ts
 * const bucket = await new S3Driver().open({ bucket: "acme", region: "eu-west-1", accessKeyId, secretAccessKey }, ctx);
 * const objects = await bucket.call("list", ["exports/"]);
 * ```
 */
export class S3Driver implements ConnectorDriver {
  readonly kind = S3_KIND;

  /** `loadSdk` is the lazy import (a seam for the missing-driver test). */
  constructor(private readonly loadSdk: () => Promise<S3Sdk> = () => import("@aws-sdk/client-s3")) {}

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const o = compileS3Options(options);
    const target = await resolveEgress(ctx.policy, o.connectHost, o.port, S3_KIND);
    let sdk: S3Sdk;
    try {
      sdk = await this.loadSdk();
    } catch {
      throw new TauError("TAU_E_CONNECTOR_UNAVAILABLE", "s3: the AWS S3 client (@aws-sdk/client-s3) is not installed in this build of Tau.", { kind: S3_KIND });
    }
    const agentOptions = { keepAlive: true, maxSockets: 8, lookup: pinnedLookup(target) };
    const agents = [new http.Agent(agentOptions), new https.Agent(agentOptions)] as const;
    const client = new sdk.S3Client({
      region: o.region,
      // Always explicit, so AWS_ENDPOINT_URL* and FIPS/dual-stack settings in the executor's environment cannot
      // send the client to a host other than the one the policy was checked for.
      endpoint: o.endpoint?.href ?? `https://s3.${o.region}.amazonaws.com`,
      forcePathStyle: o.forcePathStyle,
      credentials: o.credentials,
      maxAttempts: 3,
      requestHandler: { httpAgent: agents[0], httpsAgent: agents[1], connectionTimeout: 10_000, requestTimeout: 120_000 },
      // S3-compatible stores (MinIO, s3rver, R2) reject or ignore the newer default checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    return new S3Connector(sdk, client, o, target, ctx, () => agents.forEach((a) => a.destroy()));
  }
}

/**
 * An open `s3` handle: `list`, `read`, `write`, `delete`, and `openCursor` for `stream()`.
 *
 * @example
 * ```ts
 * await bucket.call("write", ["out/rows.parquet", [{ id: 1 }], {}]);
 * const rows = JSON.parse(((await bucket.call("read", ["out/rows.parquet", {}])) as RawJson).text);
 * ```
 */
export class S3Connector implements StreamingConnector {
  readonly kind = S3_KIND;
  private closed = false;
  private readonly aborter = new AbortController();
  private readonly cursors = new Set<RowCursor>();

  constructor(
    private readonly sdk: S3Sdk,
    private readonly client: InstanceType<S3Sdk["S3Client"]>,
    private readonly o: CompiledS3Options,
    private readonly target: CheckedTarget,
    private readonly ctx: ConnectorContext,
    private readonly releaseAgents: () => void,
  ) {}

  async call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    switch (method) {
      case "list":
        return this.list(args[0]);
      case "read":
        return this.read(parseRead(args[0], args[1]));
      case "write":
        return this.write(args[0], args[1], args[2]);
      case "delete":
        return this.delete(args[0]);
      default:
        throw argsInvalid(`there is no method '${String(method).slice(0, 60)}' (methods: list, read, stream, write, delete).`, { method: String(method).slice(0, 60) });
    }
  }

  private async send<T>(command: object, op: string, key?: string): Promise<T> {
    try {
      return (await this.client.send(command as never, { abortSignal: this.aborter.signal })) as T;
    } catch (err) {
      if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED", "s3: the connector was closed while a request was in flight.");
      throw convertS3Error(err, { op, bucket: this.o.bucket, key, host: this.target.host, port: this.target.port });
    }
  }

  /**
   * Every object under `prefix` (all pages), capped by limits.extractRows. Pages with ListObjects (v1) and
   * `Marker` = the last key seen: keyset pagination every S3-compatible store supports (s3rver's v2
   * continuation tokens use DES, which Node 20's OpenSSL 3 no longer offers).
   */
  async list(prefixArg: unknown): Promise<{ key: string; size: number; lastModified: string | null; etag: string | null }[]> {
    if (prefixArg !== undefined && prefixArg !== null && typeof prefixArg !== "string") throw argsInvalid("list(prefix?) takes the prefix as a string.");
    const prefix = typeof prefixArg === "string" && prefixArg !== "" ? prefixArg : undefined;
    const out: { key: string; size: number; lastModified: string | null; etag: string | null }[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.send<{ Contents?: { Key?: string; Size?: number; LastModified?: Date; ETag?: string }[]; IsTruncated?: boolean; NextMarker?: string }>(
        new this.sdk.ListObjectsCommand({ Bucket: this.o.bucket, Prefix: prefix, Marker: marker }),
        "list",
      );
      const contents = page.Contents ?? [];
      for (const item of contents) {
        if (item.Key === undefined) continue;
        if (out.length >= this.ctx.limits.extractRows) {
          throw new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `s3: more than ${this.ctx.limits.extractRows} objects under the prefix.`, { kind: S3_KIND, limitRows: this.ctx.limits.extractRows }, "List a narrower prefix.");
        }
        out.push({
          key: item.Key,
          size: item.Size ?? 0,
          lastModified: item.LastModified ? item.LastModified.toISOString() : null,
          etag: item.ETag ? item.ETag.replace(/^"|"$/g, "") : null,
        });
      }
      const last = contents.length > 0 ? contents[contents.length - 1].Key : undefined;
      const next = page.NextMarker ?? last;
      if (!page.IsTruncated || next === undefined || next === marker) break;
      marker = next;
    }
    return out;
  }

  /** The object's rows as JSON text, built under the row cap and the bridge's byte cap. */
  async read(req: ReadRequest): Promise<RawJson> {
    const maxRows = this.ctx.limits.extractRows;
    const maxBytes = this.ctx.limits.bridgeBytes;
    const parts: string[] = [];
    let rows = 0;
    let bytes = 2;
    const batches = this.batches(req, DEFAULT_BATCH);
    try {
      for await (const batch of batches) {
        rows += batch.length;
        if (rows > maxRows) {
          throw new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `s3: s3://${this.o.bucket}/${req.key} has more than ${maxRows} rows, the most one read may return.`, {
            kind: S3_KIND,
            limitRows: maxRows,
            key: req.key,
          }, "Use stream(key) to read it in batches.");
        }
        const text = JSON.stringify(batch);
        bytes += text.length - 1;
        if (bytes > maxBytes) {
          throw new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `s3: the rows of s3://${this.o.bucket}/${req.key} are larger than ${maxBytes} bytes.`, { kind: S3_KIND, limitBytes: maxBytes, rowsRead: rows }, "Use stream(key) to read it in batches.");
        }
        if (batch.length > 0) parts.push(text.slice(1, -1));
      }
    } finally {
      await batches.return(undefined);
    }
    return new RawJson(`[${parts.join(",")}]`);
  }

  /** Batches of the object's rows; the object's bytes are read as the batches are taken. */
  private async *batches(req: ReadRequest, batchSize: number): AsyncGenerator<Row[]> {
    const res = await this.send<{ Body?: Readable }>(new this.sdk.GetObjectCommand({ Bucket: this.o.bucket, Key: req.key }), "read", req.key);
    const body = res.Body;
    if (!body) throw new TauError("TAU_E_CONNECTOR_DATA_INVALID", `s3: s3://${this.o.bucket}/${req.key} came back without a body.`, { kind: S3_KIND, key: req.key });
    const ctx = { op: "read", bucket: this.o.bucket, key: req.key, host: this.target.host, port: this.target.port };
    const source: Readable = isGzipKey(req.key) ? gunzipped(body) : body;
    if (req.format === "parquet") {
      let dir: string;
      try {
        dir = await mkdtemp(join(tmpdir(), "tau-s3-"));
      } catch (err) {
        body.destroy();
        throw new TauError("TAU_E_CONNECTOR_IO", `s3: cannot create a temp folder for the Parquet object (${(err as NodeJS.ErrnoException).code ?? "error"}).`, { kind: S3_KIND });
      }
      try {
        const file = join(dir, "object.parquet");
        try {
          await pipeline(source, createWriteStream(file));
        } catch (err) {
          throw convertReadError(err, ctx);
        }
        yield* parquetBatches(file, batchSize);
      } finally {
        body.destroy();
        await rm(dir, { recursive: true, force: true });
      }
      return;
    }
    try {
      yield* rowBatches(guardStream(source, ctx), req.format, req.csv, batchSize, this.ctx.limits.bridgeBytes);
    } finally {
      body.destroy();
      if (source !== body) source.destroy();
    }
  }

  /** stream(): `params[0]` holds the read options; batches of `batchSize` rows. */
  async openCursor(key: string, params: unknown[], batchSize: number): Promise<RowCursor> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    const req = parseRead(key, Array.isArray(params) ? params[0] : undefined);
    const iterator = this.batches(req, Number.isInteger(batchSize) && batchSize > 0 ? batchSize : DEFAULT_BATCH);
    let done = false;
    const cursors = this.cursors;
    const cursor: RowCursor = {
      async next() {
        if (done) return null;
        const r = await iterator.next();
        if (r.done || r.value.length === 0) {
          done = true;
          return null;
        }
        return r.value;
      },
      async close() {
        if (!done) {
          done = true;
          await iterator.return(undefined).catch(() => undefined);
        }
        cursors.delete(cursor);
      },
    };
    cursors.add(cursor);
    return cursor;
  }

  /** Writes rows as one object in `opts.format` (or the key's extension). */
  async write(keyArg: unknown, rowsArg: unknown, optsArg: unknown): Promise<{ key: string; rows: number; bytes: number }> {
    const key = parseKey(keyArg);
    if (!Array.isArray(rowsArg)) throw argsInvalid("write(key, rows, opts?) takes rows as an array of objects.");
    for (let i = 0; i < rowsArg.length; i++) if (!isObject(rowsArg[i])) throw argsInvalid(`row ${i} is not an object.`, { row: i });
    const rows = rowsArg as Row[];
    const { format, csv } = parseFormat(key, optsArg, "write");
    let body: Buffer;
    if (format === "parquet") {
      const dir = await mkdtemp(join(tmpdir(), "tau-s3-"));
      try {
        const file = join(dir, "out.parquet");
        await writeParquet(rows, file, join(dir, "rows.jsonl"));
        body = await readFile(file);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      body = Buffer.from(format === "csv" ? writeCsv(rows, csv) : format === "jsonl" ? writeJsonl(rows) : JSON.stringify(rows), "utf8");
    }
    const gzip = isGzipKey(key);
    if (gzip) body = zlib.gzipSync(body);
    await this.send(new this.sdk.PutObjectCommand({ Bucket: this.o.bucket, Key: key, Body: body, ContentType: gzip ? "application/gzip" : CONTENT_TYPES[format] }), "write", key);
    return { key, rows: rows.length, bytes: body.length };
  }

  /** Deletes one object (S3 answers success for a key that does not exist). */
  async delete(keyArg: unknown): Promise<Record<string, never>> {
    const key = parseKey(keyArg);
    await this.send(new this.sdk.DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }), "delete", key);
    return {};
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.aborter.abort();
    await Promise.all([...this.cursors].map((c) => c.close()));
    this.client.destroy();
    this.releaseAgents();
  }
}

/** The object's bytes through gunzip (a body failure fails the gunzip stream too). */
function gunzipped(body: Readable): Readable {
  const gunzip = zlib.createGunzip();
  body.on("error", (err) => gunzip.destroy(err));
  return body.pipe(gunzip);
}

/** A failure while an object's bytes are read: corrupt gzip is a data error, the rest goes through the S3 converter. */
function convertReadError(err: unknown, ctx: Parameters<typeof convertS3Error>[1]): TauError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && code.startsWith("Z_")) {
    return new TauError("TAU_E_CONNECTOR_DATA_INVALID", `s3: s3://${ctx.bucket}/${ctx.key ?? ""} is not valid gzip data.`, { kind: S3_KIND, format: "gzip", where: ctx.key ?? "" });
  }
  return convertS3Error(err, ctx);
}

/** A body stream whose socket failures become Tau codes (they surface while the rows are parsed). */
async function* guardStream(body: Readable, ctx: Parameters<typeof convertS3Error>[1]): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
  } catch (err) {
    throw convertReadError(err, ctx);
  }
}
