import { mkdtempSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_POLICY } from "./policies";
import { ConnectorHost } from "./runtime/connectors";
import { parseGuardedJson, stringifyGuarded } from "./sandbox/json-guard";
import { RunCursors } from "./sandbox/executor/connector-streams";
async function main() {
  const dir = mkdtempSync(join(tmpdir(), "prof-"));
  const host = new ConnectorHost();
  const db: any = await host.open("duckdb_local", { path: "p.duckdb" }, { dataDir: dir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
  await db.call("execute", ["CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)"]);
  const cursors = new RunCursors({ maxBatchRows: 1e6 });
  const B = 100_000; let tStr = 0, tParse = 0, tLoad = 0;
  for (let s = 0; s < 1_000_000; s += B) {
    const batch = []; for (let i = s; i < s + B; i++) batch.push({ id: i, name: "customer " + i, amount: (i % 1000) / 7, day: "2024-01-" + String((i % 28) + 1).padStart(2, "0") });
    let t0 = performance.now(); const text = JSON.stringify({ handle: "h1", method: "load", args: [batch, { table: "t" }] }); tStr += performance.now() - t0;
    t0 = performance.now(); const p = parseGuardedJson(text, { maxBytes: 64 << 20, maxDepth: 64 }) as any; tParse += performance.now() - t0;
    t0 = performance.now(); await cursors.loadRows(db, p.value.args[0], p.value.args[1]); tLoad += performance.now() - t0;
  }
  console.log({ tStr: Math.round(tStr), tParse: Math.round(tParse), tLoad: Math.round(tLoad) });
  await db.close(); host.close();
}
main();
