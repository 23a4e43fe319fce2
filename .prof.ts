import { mkdtempSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_POLICY } from "./policies";
import { ConnectorHost, ColumnInference, oneBatch } from "./runtime/connectors";
import { parseGuardedJson } from "./sandbox/json-guard";
async function main() {
  const dir = mkdtempSync(join(tmpdir(), "prof-"));
  const host = new ConnectorHost();
  const db: any = await host.open("duckdb_local", { path: "p.duckdb" }, { dataDir: dir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
  await db.call("execute", ["CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)"]);
  const B = 100_000; let tParse = 0, tInfer = 0, tLoad = 0;
  for (let s = 0; s < 1_000_000; s += B) {
    const batch = []; for (let i = s; i < s + B; i++) batch.push({ id: i, name: "customer " + i, amount: (i % 1000) / 7, day: "2024-01-" + String((i % 28) + 1).padStart(2, "0") });
    const text = JSON.stringify({ handle: "h1", method: "load", args: [batch, { table: "t" }] });
    let t0 = performance.now(); const p = parseGuardedJson(text, { maxBytes: 64 << 20, maxDepth: 64 }) as any; tParse += performance.now() - t0;
    t0 = performance.now(); new ColumnInference().observe(p.value.args[0]); tInfer += performance.now() - t0;
    t0 = performance.now(); await db.loadFrom(oneBatch(p.value.args[0]), { table: "t", mode: "append", mergeKey: null }); tLoad += performance.now() - t0;
  }
  console.log({ tParse, tInfer, tLoad });
  // cursor read speed
  let t0 = performance.now(); const c = await db.openCursor("SELECT * FROM t", [], 10000); let n = 0; for (let b = await c.next(); b; b = await c.next()) n += b.length; console.log("cursor", n, performance.now() - t0);
  await db.close(); host.close();
}
main();
