import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy } from "../../policies";
import { RawJson, S3Connector, S3Driver, type ConnectorContext } from "../../runtime/connectors";
import { CsvParser, CsvRows, writeCsv } from "../../runtime/connectors/s3-formats";

// s3rver ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };

const dir = mkdtempSync(join(tmpdir(), "tau-s3-test-"));
let server: { run(): Promise<{ port: number }>; close(): Promise<void> };
let endpoint: string;
let raw: S3Client;
const driver = new S3Driver();
const open: S3Connector[] = [];
const BUCKET = "tau-test";

beforeAll(async () => {
  server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  raw = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
});
afterAll(async () => {
  raw?.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

function ctx(policy: Policy = LOCAL_POLICY): ConnectorContext {
  return { dataDir: dir, policy, limits: policy.limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<S3Connector> {
  const c = (await driver.open({ bucket: BUCKET, endpoint, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", ...options }, context)) as S3Connector;
  open.push(c);
  return c;
}

async function read(c: S3Connector, key: string, opts?: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  return JSON.parse(((await c.call("read", [key, opts])) as RawJson).text) as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

async function putRaw(key: string, body: string | Buffer): Promise<void> {
  await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

const tricky = [
  { id: "1", name: "Ada, Countess", note: 'said "hi"', text: "line one\nline two", empty: "", missing: null },
  { id: "2", name: "Zoë ✓", note: " padded ", text: "crlf\r\nend", empty: "", missing: null },
];

describe("s3: reading and writing rows", () => {
  it("CSV round-trips quotes, delimiters, newlines, unicode, empty strings and nulls", async () => {
    const c = await connect();
    expect(await c.call("write", ["rt/tricky.csv", tricky])).toEqual({ key: "rt/tricky.csv", rows: 2, bytes: expect.any(Number) });
    expect(await read(c, "rt/tricky.csv")).toEqual(tricky);
  });

  it("reads CSV with a BOM, CRLF line ends, a blank last line, a TSV extension and header: false", async () => {
    await putRaw("in/bom.csv", "\uFEFFid,name\r\n1,\"a\r\nb\"\r\n2,c\r\n\r\n");
    await putRaw("in/data.tsv", "id\tname\n1\tx\n");
    await putRaw("in/nohead.txt", "1;x\n2;y");
    const c = await connect();
    expect(await read(c, "in/bom.csv")).toEqual([{ id: "1", name: "a\r\nb" }, { id: "2", name: "c" }]);
    expect(await read(c, "in/data.tsv")).toEqual([{ id: "1", name: "x" }]);
    expect(await read(c, "in/nohead.txt", { format: "csv", csv: { header: false, delimiter: ";" } })).toEqual([
      { column1: "1", column2: "x" },
      { column1: "2", column2: "y" },
    ]);
  });

  it("malformed CSV (an unclosed quote, too many fields) is TAU_E_CONNECTOR_DATA_INVALID naming the record", async () => {
    await putRaw("bad/open.csv", 'a,b\n1,"x\n');
    await putRaw("bad/wide.csv", "a,b\n1,2\n3,4,5\n");
    const c = await connect();
    expect(await failure(c.call("read", ["bad/open.csv"]))).toMatchObject({ code: "TAU_E_CONNECTOR_DATA_INVALID", details: { format: "csv" } });
    expect(await failure(c.call("read", ["bad/wide.csv"]))).toMatchObject({ code: "TAU_E_CONNECTOR_DATA_INVALID", details: { where: "record 3" } });
  });

  it("JSON lines and JSON arrays round-trip nested values", async () => {
    const rows = [{ id: 1, tags: ["a"], meta: { deep: { x: true } }, at: null }, { id: 2, tags: [], meta: {}, at: "2026-01-01T00:00:00.000Z" }];
    const c = await connect();
    await c.call("write", ["rt/rows.jsonl", rows]);
    await c.call("write", ["rt/rows.json", rows]);
    await c.call("write", ["rt/rows.data", rows, { format: "jsonl" }]);
    expect(await read(c, "rt/rows.jsonl")).toEqual(rows);
    expect(await read(c, "rt/rows.json")).toEqual(rows);
    expect(await read(c, "rt/rows.data", { format: "jsonl" })).toEqual(rows);
    await putRaw("bad/line.jsonl", '{"a":1}\nnot json\n');
    expect(await failure(c.call("read", ["bad/line.jsonl"]))).toMatchObject({ code: "TAU_E_CONNECTOR_DATA_INVALID", details: { where: "line 2" } });
  });

  it("Parquet round-trips through DuckDB with types inferred from the rows", async () => {
    const rows = Array.from({ length: 2500 }, (_v, i) => ({ id: i, name: `n${i}`, price: i / 4, paid: i % 2 === 0, note: i % 3 === 0 ? null : "x" }));
    const c = await connect();
    const written = (await c.call("write", ["rt/rows.parquet", rows])) as { bytes: number };
    expect(written.bytes).toBeGreaterThan(0);
    const back = await read(c, "rt/rows.parquet");
    expect(back).toHaveLength(2500);
    expect(back[0]).toEqual({ id: 0, name: "n0", price: 0, paid: true, note: null });
    expect(back[2499]).toEqual(rows[2499]);
    expect((await failure(c.call("write", ["rt/empty.parquet", []]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("stream reads an object in batches of the asked size", async () => {
    const rows = Array.from({ length: 25 }, (_v, i) => ({ i: String(i) }));
    const c = await connect();
    await c.call("write", ["st/rows.csv", rows]);
    await c.call("write", ["st/rows.parquet", rows]);
    for (const key of ["st/rows.csv", "st/rows.parquet"]) {
      const cursor = await c.openCursor(key, [{}], 10);
      const sizes: number[] = [];
      const all: unknown[] = [];
      for (let b = await cursor.next(); b !== null; b = await cursor.next()) {
        sizes.push(b.length);
        all.push(...b);
      }
      await cursor.close();
      expect(sizes).toEqual([10, 10, 5]);
      expect(all).toEqual(rows);
    }
  });

  it("a read past limits.extractRows is TAU_E_CONNECTOR_RESULT_TOO_LARGE", async () => {
    const c = await connect({}, ctx({ ...LOCAL_POLICY, limits: { ...DEFAULT_LIMITS, extractRows: 10 } }));
    await c.call("write", ["cap/rows.jsonl", Array.from({ length: 11 }, (_v, i) => ({ i }))]);
    expect(await failure(c.call("read", ["cap/rows.jsonl"]))).toMatchObject({ code: "TAU_E_CONNECTOR_RESULT_TOO_LARGE", details: { limitRows: 10 } });
  });

  it("a .gz key is read through gunzip and written gzip-compressed; corrupt gzip is TAU_E_CONNECTOR_DATA_INVALID", async () => {
    const c = await connect();
    await putRaw("gz/in.csv.gz", gzipSync("a,b\n1,2\n"));
    expect(await read(c, "gz/in.csv.gz")).toEqual([{ a: "1", b: "2" }]);
    const rows = [{ id: 1 }, { id: 2 }];
    const written = (await c.call("write", ["gz/out.jsonl.gz", rows])) as { bytes: number };
    expect(await read(c, "gz/out.jsonl.gz")).toEqual(rows);
    await c.call("write", ["gz/out.parquet.gz", rows]);
    expect(await read(c, "gz/out.parquet.gz")).toEqual(rows);
    expect(written.bytes).toBeGreaterThan(10);
    await putRaw("gz/bad.csv.gz", "plain text, not gzip");
    expect(await failure(c.call("read", ["gz/bad.csv.gz"]))).toMatchObject({ code: "TAU_E_CONNECTOR_DATA_INVALID", details: { format: "gzip" } });
  });

  it("a key without a known extension needs a format", async () => {
    const c = await connect();
    expect((await failure(c.call("read", ["in/nohead.txt"]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });
});

describe("s3: listing, deleting, errors", () => {
  it("list returns every object under a prefix across pages (more than 1000 keys)", async () => {
    const c = await connect();
    const keys = Array.from({ length: 1050 }, (_v, i) => `many/k${String(i).padStart(4, "0")}.jsonl`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => putRaw(k, "{}\n")));
    const listed = (await c.call("list", ["many/"])) as { key: string; size: number; lastModified: string; etag: string }[];
    expect(listed.map((o) => o.key).sort()).toEqual(keys);
    expect(listed[0]).toMatchObject({ size: 3, etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(Number.isNaN(Date.parse(listed[0].lastModified))).toBe(false);
  }, 120_000);

  it("delete removes an object; reading a missing key or bucket is TAU_E_CONNECTOR_UNKNOWN_OBJECT", async () => {
    const c = await connect();
    await c.call("write", ["del/x.jsonl", [{ a: 1 }]]);
    expect(await c.call("delete", ["del/x.jsonl"])).toEqual({});
    expect(await failure(c.call("read", ["del/x.jsonl"]))).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", details: { bucket: BUCKET, key: "del/x.jsonl", s3Error: "NoSuchKey" } });
    const other = await connect({ bucket: "no-such-bucket" });
    expect(await failure(other.call("list", []))).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", details: { s3Error: "NoSuchBucket" } });
  });

  it("an unknown access key is TAU_E_CONNECTOR_AUTH_FAILED (s3rver checks the key id, not SigV4 signatures)", async () => {
    const badKey = await connect({ accessKeyId: "NOT-A-KEY" });
    const err = await failure(badKey.call("list", []));
    expect(err).toMatchObject({ code: "TAU_E_CONNECTOR_AUTH_FAILED", details: { s3Error: "InvalidAccessKeyId" } });
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain("S3RVER");
  });

  it("an endpoint the egress policy denies fails at open with TAU_E_POLICY_DENIED; a closed port is TAU_E_CONNECTOR_UNREACHABLE", async () => {
    const denied: Policy = { ...LOCAL_POLICY, egress: [{ host: "s3.amazonaws.com" }] };
    expect(await failure(driver.open({ bucket: BUCKET, endpoint, accessKeyId: "a", secretAccessKey: "b" }, ctx(denied)))).toMatchObject({
      code: "TAU_E_POLICY_DENIED",
      details: { rule: "egress", host: "127.0.0.1" },
    });
    // The AWS default: virtual-hosted style connects to <bucket>.s3.<region>.amazonaws.com — that is what is checked.
    expect(await failure(driver.open({ bucket: BUCKET, region: "eu-west-1", accessKeyId: "a", secretAccessKey: "b" }, ctx(denied)))).toMatchObject({
      code: "TAU_E_POLICY_DENIED",
    });
    const dead = await connect({ endpoint: "http://127.0.0.1:1" });
    expect(await failure(dead.call("list", []))).toMatchObject({ code: "TAU_E_CONNECTOR_UNREACHABLE", details: { port: 1 } });
  });

  it("credentials are required, options are checked, and a missing AWS SDK is TAU_E_CONNECTOR_UNAVAILABLE", async () => {
    expect((await failure(driver.open({ bucket: BUCKET, endpoint }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ bucket: "Bad_Bucket", endpoint, accessKeyId: "a", secretAccessKey: "b" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const missing = new S3Driver(() => Promise.reject(new Error("Cannot find module '@aws-sdk/client-s3'")));
    expect((await failure(missing.open({ bucket: BUCKET, endpoint, accessKeyId: "a", secretAccessKey: "b" }, ctx()))).code).toBe("TAU_E_CONNECTOR_UNAVAILABLE");
  });
});

describe("s3: the CSV parser", () => {
  it("gives the same records however the text is split into chunks", () => {
    const text = '\uFEFFa,b,c\r\n"x ""q""",,"multi\nline"\r\n"",plain,"end"\n';
    const whole: (string | null)[][] = [];
    const p1 = new CsvParser(",");
    p1.push(text, whole);
    p1.end(whole);
    expect(whole).toEqual([
      ["a", "b", "c"],
      ['x "q"', null, "multi\nline"],
      ["", "plain", "end"],
    ]);
    for (const size of [1, 2, 3, 7]) {
      const out: (string | null)[][] = [];
      const p = new CsvParser(",");
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size), out);
      p.end(out);
      expect(out).toEqual(whole);
    }
  });

  it("writes what it reads back", () => {
    const rows = [{ a: "x,y", b: null, c: 'q"q', d: 3, e: { n: 1 } }];
    const out: (string | null)[][] = [];
    const p = new CsvParser(",");
    p.push(writeCsv(rows, { header: true, delimiter: "," }), out);
    p.end(out);
    const objects: Record<string, unknown>[] = [];
    new CsvRows({ header: true, delimiter: "," }).add(out, objects);
    expect(objects).toEqual([{ a: "x,y", b: null, c: 'q"q', d: "3", e: '{"n":1}' }]);
  });
});
