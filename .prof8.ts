import { mkdtempSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_POLICY } from "./policies";
import { ConnectorHost } from "./runtime/connectors";
import { RunCursors } from "./sandbox/executor/connector-streams";
async function main() {
  const dir = mkdtempSync(join(tmpdir(), "prof-"));
  const host = new ConnectorHost();
  const ctx = { dataDir: dir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits };
  const src: any = await host.open("duckdb_local", { path: "s.duckdb" }, ctx);
  const dst: any = await host.open("duckdb_local", { path: "d.duckdb" }, ctx);
  await src.call("execute", ["CREATE TABLE t AS SELECT range AS id, 'customer ' || range AS name, (range % 1000) / 7 AS amount, DATE '2024-01-01' + (range % 28)::INT AS day FROM range(1000000)"]);
  await dst.call("execute", ["CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)"]);
  let t0 = performance.now();
  const c = await src.openCursor("SELECT * FROM t", [], 10000); let n = 0; for (let b = await c.next(); b; b = await c.next()) n += b.length;
  console.log("read", Math.round(performance.now() - t0));
  const cursors = new RunCursors({ maxBatchRows: 1e6 });
  t0 = performance.now();
  await cursors.copy(dst, { table: "t" }, "h1", src, { sql: "SELECT * FROM t", params: [] });
  console.log("copy", Math.round(performance.now() - t0));
  await src.close(); await dst.close(); host.close();
}
main();
