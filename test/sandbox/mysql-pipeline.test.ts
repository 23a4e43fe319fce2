/**
 * mysql end to end through the real sandbox: pipeline files compiled by the deploy compiler and run in a real
 * executor process (a private build of the working tree, see streams-build.ts), against the real MariaDB.
 */
import { createConnection, type Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY, type Policy } from "../../policies";
import type { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

const DB = `tau_mysql_sandbox_${process.pid}`;
const BAD_USER = "tau-no-such-user-7f3e9a";

function mysqlPipeline(body: string): string {
  return pipelineFile(body, { prelude: `import { mysql } from "tau/connectors";` });
}

describe("mysql pipelines in the sandbox", () => {
  const data = tempDir("tau-mysql-e2e-");
  let admin: Connection;
  let built: PrivateBuild;
  let pool: ExecutorPool;

  beforeAll(async () => {
    admin = await createConnection({ host: "127.0.0.1", user: "root" });
    await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``);
    await admin.query(`CREATE DATABASE \`${DB}\``);
    built = await buildPrivateExecutor();
    pool = await startPrivatePool(built, 1, { TAU_TEST_MYSQL_DB: DB, TAU_TEST_MYSQL_USER: "root", TAU_TEST_MYSQL_BAD_USER: BAD_USER });
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    built?.remove();
    await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``);
    await admin.end();
    data.remove();
  });

  it("a pipeline loads, upserts, streams, copies on the host and extracts with secrets in the options", async () => {
    const source = mysqlPipeline(`
  await using db = mysql({ host: "127.0.0.1", user: ctx.secret("TAU_TEST_MYSQL_USER"), database: ctx.secret("TAU_TEST_MYSQL_DB") });
  const rows = [];
  for (let i = 1; i <= 2500; i++) rows.push({ id: i, name: "n" + i, at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), ok: i % 2 === 0 });
  const loaded = await ctx.step("load", async (step) => {
    step.rowsOut = await db.load(rows, { table: "orders" });
    return step.rowsOut;
  });
  const upserted = await db.load([{ id: 1, name: "first" }, { id: 9999, name: "new" }, { id: 1, name: "last" }], { table: "orders_u", mode: "upsert", mergeKey: "id" });
  let streamed = 0, batches = 0;
  for await (const batch of db.stream("SELECT id FROM orders ORDER BY id", [], { batchSize: 1000 })) { streamed += batch.length; batches++; }
  const copied = await db.load(db.query("SELECT id, name, at FROM orders WHERE id > ?", [500]), { table: "orders_copy", mode: "replace" });
  const [summary] = await db.extract("SELECT COUNT(*) AS n, MIN(at) AS first, SUM(ok) AS ok FROM orders");
  const merged = await db.extract("SELECT * FROM orders_u ORDER BY id");
  const [{ n: copiedRows }] = await db.extract("SELECT COUNT(*) AS n FROM orders_copy");
  return { loaded, upserted, streamed, batches, copied, copiedRows, summary, merged };`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome).toEqual({
      status: "succeeded",
      result: {
        loaded: 2500,
        upserted: 3,
        streamed: 2500,
        batches: 3,
        copied: 2000,
        copiedRows: 2000,
        summary: { n: 2500, first: "2024-01-01T00:00:01.000Z", ok: 1250 },
        merged: [
          { id: 1, name: "last" },
          { id: 9999, name: "new" },
        ],
      },
    });
    expect(events.filter((e) => e.kind === "step.finished")).toEqual([expect.objectContaining({ step: "load", status: "succeeded", rowsOut: 2500 })]);
  });

  it("a secret in the options is substituted on the host and scrubbed from the auth error the pipeline sees", async () => {
    const source = mysqlPipeline(`
  await using db = mysql({ host: "127.0.0.1", user: ctx.secret("TAU_TEST_MYSQL_BAD_USER"), password: "x" });
  try {
    await db.execute("SELECT 1");
    return { ok: true };
  } catch (err) {
    return { code: err.code, message: err.message };
  }`);
    const { outcome, events } = await runSource(pool, source, { dataDir: data.path });
    expect(outcome.status).toBe("succeeded");
    const result = (outcome as { result: { code: string; message: string } }).result;
    expect(result.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(result.message).toContain("[secret:TAU_TEST_MYSQL_BAD_USER]");
    expect(JSON.stringify({ outcome, events })).not.toContain(BAD_USER);
  });

  it("a tenant policy without egress to the server fails the open with TAU_E_POLICY_DENIED", async () => {
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ host: "db.example.com" }] };
    const source = mysqlPipeline(`
  await using db = mysql({ host: "127.0.0.1", user: "root" });
  await db.execute("SELECT 1");`);
    const { outcome } = await runSource(pool, source, { dataDir: data.path, policy });
    expect(outcome.status).toBe("failed");
    expect((outcome as { error: { code: string; message: string } }).error).toMatchObject({
      code: "TAU_E_POLICY_DENIED",
      message: expect.stringContaining("127.0.0.1:3306"),
    });
  });
});
