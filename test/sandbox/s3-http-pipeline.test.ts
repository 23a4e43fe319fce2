/**
 * s3 and http_api end to end through the real sandbox: pipeline files compiled by the deploy compiler, run in
 * real executor processes, talking to s3rver and a loopback HTTP server. The executor and guest runtime are
 * bundled from the working tree into a private folder (not dist/, which other suites read while they run).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY, type Policy } from "../../policies";
import { ExecutorPool } from "../../sandbox/pool";
import { runSource, tempDir } from "./helpers";

// s3rver ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };

const ROOT = join(__dirname, "..", "..");

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
const SECRET_TOKEN = "tok-e2e-9f8e7d6c5b4a";

describe("s3 and http_api pipelines in the sandbox", () => {
  const data = tempDir("tau-s3-e2e-");
  // Inside the package (under node_modules/.cache, ignored by git) so the bundle's bare imports resolve.
  const out = mkdtempSync(join(mkdirp(join(ROOT, "node_modules", ".cache")), "tau-s3-e2e-"));
  let pool: ExecutorPool;
  let s3server: { run(): Promise<{ port: number }>; close(): Promise<void> };
  let endpoint: string;
  let api: http.Server;
  let apiBase: string;

  beforeAll(async () => {
    await build({
      absWorkingDir: ROOT,
      entryPoints: [{ in: "sandbox/executor/main.ts", out: "executor" }],
      outdir: out,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      packages: "external",
      logLevel: "warning",
    });
    await build({
      absWorkingDir: ROOT,
      entryPoints: ["runtime/sdk/guest.ts"],
      outfile: join(out, "runtime.js"),
      bundle: true,
      platform: "neutral",
      format: "iife",
      target: "es2022",
      logLevel: "warning",
    });
    s3server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: join(data.path, "s3"), configureBuckets: [{ name: "tau-e2e" }] });
    endpoint = `http://127.0.0.1:${(await s3server.run()).port}`;
    const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    await client.send(new PutObjectCommand({ Bucket: "tau-e2e", Key: "in/orders.csv", Body: 'id,customer,amount\r\n1,"Ada, Countess",10.5\r\n2,Grace,20\r\n3,"Line\nBreak",1.25\r\n' }));
    client.destroy();

    api = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (req.headers.authorization !== `Bearer ${SECRET_TOKEN}`) {
        // A careless service that echoes the credential back: the run's error must not carry it.
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `bad token ${req.headers.authorization ?? ""}` }));
        return;
      }
      const page = Number(url.searchParams.get("page") ?? "1");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: page <= 2 ? [{ id: page * 10 + 1 }, { id: page * 10 + 2 }] : [] }));
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    apiBase = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

    pool = new ExecutorPool({
      size: 1,
      executorPath: join(out, "executor.js"),
      env: { ...process.env, TAU_GUEST_RUNTIME: join(out, "runtime.js"), TAU_E2E_S3_KEY: "S3RVER", TAU_E2E_S3_SECRET: "S3RVER", TAU_E2E_TOKEN: SECRET_TOKEN },
      onStderr: () => undefined,
    });
    await pool.start();
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await s3server?.close();
    api?.closeAllConnections();
    await new Promise((r) => api?.close(r));
    rmSync(out, { recursive: true, force: true });
    data.remove();
  });

  function source(body: string): string {
    return [
      `import { pipeline } from "tau";`,
      `import { duckdb_local, http_api, s3 } from "tau/connectors";`,
      `export default pipeline({ name: "s3_e2e" }, async (ctx) => {`,
      body,
      `});`,
      ``,
    ].join("\n");
  }

  it("a pipeline reads a CSV from s3, loads it into duckdb_local, streams it and writes Parquet back", async () => {
    const { outcome } = await runSource(
      pool,
      source(`
  await using bucket = s3({ bucket: "tau-e2e", endpoint: ctx.params.endpoint as string,
    accessKeyId: ctx.secret("TAU_E2E_S3_KEY"), secretAccessKey: ctx.secret("TAU_E2E_S3_SECRET") });
  await using db = duckdb_local();
  const rows = await ctx.step("extract", async (step) => {
    const r = await bucket.read<{ id: string; customer: string; amount: string }>("in/orders.csv");
    step.rowsOut = r.length;
    return r;
  });
  const loaded = await db.load(rows, { table: "orders", mode: "replace" });
  let streamed = 0;
  let batches = 0;
  for await (const batch of bucket.stream("in/orders.csv", { batchSize: 2 })) { streamed += batch.length; batches++; }
  const check = await db.extract("SELECT count(*) AS n, sum(CAST(amount AS DOUBLE)) AS total, max(customer) AS top FROM orders");
  await bucket.write("out/summary.parquet", check);
  const back = await bucket.read("out/summary.parquet");
  const keys = (await bucket.list("out/")).map((o) => o.key);
  return { loaded, streamed, batches, check, back, keys, first: rows[0] };`),
      { dataDir: data.path, params: { endpoint } },
    );
    expect(outcome).toEqual({
      status: "succeeded",
      result: {
        loaded: 3,
        streamed: 3,
        batches: 2,
        check: [{ n: 3, total: 31.75, top: "Line\nBreak" }],
        back: [{ n: 3, total: 31.75, top: "Line\nBreak" }],
        keys: ["out/summary.parquet"],
        first: { id: "1", customer: "Ada, Countess", amount: "10.5" },
      },
    });
  });

  it("an s3 endpoint the tenant's egress policy denies fails the run with TAU_E_POLICY_DENIED", async () => {
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ host: "*.amazonaws.com", ports: [443] }] };
    const { outcome } = await runSource(
      pool,
      source(`
  await using bucket = s3({ bucket: "tau-e2e", endpoint: ctx.params.endpoint as string,
    accessKeyId: ctx.secret("TAU_E2E_S3_KEY"), secretAccessKey: ctx.secret("TAU_E2E_S3_SECRET") });
  return await bucket.list();`),
      { dataDir: data.path, params: { endpoint }, policy },
    );
    expect(outcome.status).toBe("failed");
    expect(outcome).toMatchObject({ error: { code: "TAU_E_POLICY_DENIED" } });
  });

  it("http_api extracts every page with a bearer secret; a failure's error never carries the token", async () => {
    const ok = await runSource(
      pool,
      source(`
  await using api = http_api({ baseUrl: ctx.params.base as string, auth: { type: "bearer", token: ctx.secret("TAU_E2E_TOKEN") } });
  const records = await api.extract<{ id: number }>("/items", { recordPath: "data", paginate: { type: "page", pageParam: "page", pageSize: 2 } });
  let pages = 0;
  for await (const _batch of api.stream("/items", { recordPath: "data", paginate: { type: "page", pageParam: "page", pageSize: 2 } })) pages++;
  return { ids: records.map((r) => r.id), pages };`),
      { dataDir: data.path, params: { base: apiBase } },
    );
    expect(ok.outcome).toEqual({ status: "succeeded", result: { ids: [11, 12, 21, 22], pages: 2 } });

    // The secret sent under another scheme gets a 401 whose body echoes the header: the run's error must
    // carry the scrubbed form only.
    const failed = await runSource(
      pool,
      source(`
  await using api = http_api({ baseUrl: ctx.params.base as string, headers: { Authorization: "Token " + "{{tau.secret:TAU_E2E_TOKEN}}" } });
  return await api.extract("/items");`),
      { dataDir: data.path, params: { base: apiBase } },
    );
    expect(failed.outcome.status).toBe("failed");
    const text = JSON.stringify(failed);
    expect(failed.outcome).toMatchObject({ error: { code: "TAU_E_CONNECTOR_AUTH_FAILED" } });
    expect(text).not.toContain(SECRET_TOKEN);
    expect(text).toContain("[secret:TAU_E2E_TOKEN]");
  });
});
