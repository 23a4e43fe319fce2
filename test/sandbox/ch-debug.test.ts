import { afterAll, beforeAll, it, expect } from "vitest";
import type { ExecutorPool } from "../../sandbox/pool";
import { FakeClickHouse } from "../runtime/fakes/clickhouse-server";
import { pipelineFile, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";
const data = tempDir("tau-ch-dbg-");
let server: FakeClickHouse; let built: PrivateBuild; let pool: ExecutorPool;
beforeAll(async () => {
  server = await FakeClickHouse.start({ user: "etl", password: "pw", databases: ["analytics"] });
  built = await buildPrivateExecutor();
  pool = await startPrivatePool(built, 1, { TAU_TEST_CH_URL: server.url });
}, 60_000);
afterAll(async () => { await pool?.close(); built?.remove(); await server?.stop(); data.remove(); });
for (const [name, body] of [
  ["duck step fails", `await using db = duckdb_local(":memory:");
  await ctx.step("read", async () => db.extract("SELECT * FROM missing_table")); return 1;`],
  ["ch step fails awaited", `await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "pw" });
  await ctx.step("read", async () => { await ch.extract("SELECT * FROM analytics.missing_table"); }); return 1;`],
  ["ch step no using", `const ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "pw" });
  await ctx.step("read", async () => ch.extract("SELECT * FROM analytics.missing_table")); return 1;`],
  ["step fails", `await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "pw" });
  await ctx.step("read", async () => ch.extract("SELECT * FROM analytics.missing_table")); return 1;`],
  ["log fields", `ctx.log("auth", { code: "x", message: "y" }); return 1;`],
  ["two conns", `await using bad = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "nope" });
  try { await bad.extract("SELECT 1"); } catch (err) { }
  await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "pw" });
  await ch.extract("SELECT * FROM analytics.missing_table"); return 1;`],
  ["bad auth caught", `await using bad = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "nope" });
  try { await bad.extract("SELECT 1"); } catch (err) { return err.code; } return "x";`],
  ["missing table", `await using ch = clickhouse({ url: ctx.secret("TAU_TEST_CH_URL"), username: "etl", password: "pw" });
  await ch.extract("SELECT * FROM analytics.missing_table"); return 1;`],
]) it(name, async () => {
  const r = await runSource(pool, pipelineFile(body, { prelude: `import { clickhouse } from "tau/connectors";` }), { dataDir: data.path });
  console.log(name, JSON.stringify(r.outcome).slice(0, 400));
}, 15_000);
