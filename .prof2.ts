import { DuckDBInstance, DuckDBDataChunkWriter, JSToDuckDBValueConverter } from "@duckdb/node-api";
import { performance } from "node:perf_hooks";
import { stageValue } from "./runtime/connectors/duckdb-values";
async function main() {
  const inst = await DuckDBInstance.create("/tmp/prof2-" + Date.now() + ".duckdb"); const c = await inst.connect();
  await c.run("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)");
  await c.run("CREATE TABLE u (id BIGINT, name VARCHAR, amount DOUBLE, day DATE)");
  let tApp = 0, tIns = 0, tInsU = 0, tMisc = 0;
  const cols = [["id","BIGINT"],["name","VARCHAR"],["amount","DOUBLE"],["day","VARCHAR"]] as const;
  for (let s = 0; s < 1_000_000; s += 100_000) {
    const batch: any[] = []; for (let i = s; i < s + 100_000; i++) batch.push({ id: i, name: "customer " + i, amount: (i % 1000) / 7, day: "2024-01-" + String((i % 28) + 1).padStart(2, "0") });
    let t0 = performance.now();
    await c.run("CREATE TEMP TABLE st (id BIGINT, name VARCHAR, amount DOUBLE, day VARCHAR)"); tMisc += performance.now() - t0;
    t0 = performance.now();
    const app = await c.createAppender("st", "main", "temp");
    const w = DuckDBDataChunkWriter.forAppender(app, { converter: JSToDuckDBValueConverter });
    for (const r of batch) { const v = new Array(4); for (let k = 0; k < 4; k++) v[k] = stageValue(r[cols[k][0]], cols[k][1] as any); w.appendRow(v); }
    w.flush(); app.closeSync(); tApp += performance.now() - t0;
    t0 = performance.now(); await c.run("BEGIN"); await c.run("INSERT INTO t BY NAME SELECT * FROM temp.main.st"); await c.run("COMMIT"); tIns += performance.now() - t0;
    t0 = performance.now(); await c.run("BEGIN"); await c.run("INSERT INTO u BY NAME SELECT * FROM temp.main.st"); await c.run("COMMIT"); tInsU += performance.now() - t0;
    await c.run("DROP TABLE temp.main.st");
  }
  console.log({ tApp, tIns, tInsU, tMisc });
}
main();
