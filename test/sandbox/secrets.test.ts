import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, requireBuild, runSource, tempDir } from "./helpers";

const SECRET_VALUE = "s3cr3t-Wh1sky-Tang0-9f8e7d";
const DB_FILE = `${SECRET_VALUE}.duckdb`;

describe("secrets", () => {
  const dir = tempDir();
  let pool: ExecutorPool;

  beforeAll(async () => {
    requireBuild();
    pool = new ExecutorPool({
      size: 1,
      env: { ...process.env, TAU_TEST_DB_FILE: DB_FILE, TAU_TEST_PLAIN: SECRET_VALUE },
      onStderr: () => undefined,
    });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
    dir.remove();
  });

  it("ctx.secret returns a marker, never the value; the host substitutes the value when it opens the connector", async () => {
    const source = pipelineFile(`
  const marker = ctx.secret("TAU_TEST_DB_FILE");
  await using db = duckdb_local(marker);
  await db.execute("CREATE OR REPLACE TABLE t AS SELECT 7 AS n");
  return { marker, n: (await db.extract("SELECT n FROM t"))[0].n };`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    expect(outcome).toEqual({ status: "succeeded", result: { marker: "{{tau.secret:TAU_TEST_DB_FILE}}", n: 7 } });
  });

  it("a value echoed back by a driver is scrubbed from logs, step meta, results and errors, whole or rebuilt from pieces", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local(ctx.secret("TAU_TEST_DB_FILE"));
  const [{ path }] = await db.extract("SELECT path FROM duckdb_databases() WHERE database_name = current_database()");
  const rebuilt = path.slice(0, 10) + path.slice(10);
  ctx.log.info("opened " + path, { path, nested: { again: rebuilt }, [path]: "as a key" });
  ctx.log.info(JSON.stringify({ quoted: path }));
  await ctx.step("echo", async (step) => { step.meta.path = rebuilt; });
  if (ctx.params.fail) throw new Error("cannot use " + rebuilt);
  return { path, rebuilt, list: [path] };`);
    for (const fail of [false, true]) {
      const { outcome, events } = await runSource(pool, source, { dataDir: dir.path, params: { fail } });
      const everything = JSON.stringify({ outcome, events });
      expect(everything).not.toContain(SECRET_VALUE);
      expect(everything).toContain("[secret:TAU_TEST_DB_FILE]");
      if (fail) {
        expect(outcome.status).toBe("failed");
        if (outcome.status === "failed") expect(outcome.error.message).toMatch(/^cannot use .*\[secret:TAU_TEST_DB_FILE\]/);
      } else {
        expect(outcome.status).toBe("succeeded");
        const logs = events.filter((e) => e.kind === "log");
        expect(logs[0]).toMatchObject({ message: expect.stringContaining("[secret:TAU_TEST_DB_FILE]") });
      }
    }
  });

  it("a marker written by hand still goes through the host's checks and is scrubbed", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local("{{tau.secret:TAU_TEST_PLAIN}}.duckdb");
  const [{ path }] = await db.extract("SELECT path FROM duckdb_databases() WHERE database_name = current_database()");
  return path;`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    expect(JSON.stringify(outcome)).not.toContain(SECRET_VALUE);
    expect(outcome.status === "succeeded" && String(outcome.result)).toContain("[secret:TAU_TEST_PLAIN].duckdb");
  });

  it("a missing secret fails with TAU_E_SECRET_NOT_FOUND and a secret the policy does not allow with TAU_E_POLICY_DENIED", async () => {
    const source = pipelineFile(`
  const codes: string[] = [];
  for (const name of ["TAU_TEST_SURELY_MISSING", "TAU_TEST_PLAIN"]) {
    try { ctx.secret(name); codes.push("ok"); } catch (err: any) { codes.push(err.code); }
  }
  return codes;`);
    const local = await runSource(pool, source, { dataDir: dir.path });
    expect(local.outcome).toEqual({ status: "succeeded", result: ["TAU_E_SECRET_NOT_FOUND", "ok"] });
    const strict = await runSource(pool, source, { dataDir: dir.path, policy: { ...LOCAL_POLICY, secrets: ["OTHER"] } });
    expect(strict.outcome).toEqual({ status: "succeeded", result: ["TAU_E_POLICY_DENIED", "TAU_E_POLICY_DENIED"] });
  });
});
