import { DuckDBInstance, DuckDBDataChunkWriter, JSToDuckDBValueConverter as J, DuckDBDateValue } from "@duckdb/node-api";
const JSToDuckDBValueConverter: any = (v: any, t: any, c: any) => (v instanceof DuckDBDateValue ? v : J(v, t, c));
import { performance } from "node:perf_hooks";
async function main() {
  const inst = await DuckDBInstance.create(":memory:"); const c = await inst.connect();
  await c.run("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)");
  await c.run("BEGIN");
  const app = await c.createAppender("t"); const w = DuckDBDataChunkWriter.forAppender(app, { converter: JSToDuckDBValueConverter });
  w.appendRow([1, "a", 1.5, new DuckDBDateValue(19000)]); w.flush(); app.closeSync();
  console.log((await c.runAndReadAll("SELECT count(*) FROM t")).getRows());
  await c.run("ROLLBACK");
  console.log("after rollback", (await c.runAndReadAll("SELECT count(*) FROM t")).getRows());
  for (const pk of [true, false]) {
    await c.run(`CREATE OR REPLACE TABLE u (id BIGINT ${pk ? "PRIMARY KEY" : ""}, name VARCHAR, amount DOUBLE, day DATE)`);
    const t0 = performance.now();
    await c.run("BEGIN");
    for (let s = 0; s < 1_000_000; s += 100_000) {
      const a = await c.createAppender("u"); const wr = DuckDBDataChunkWriter.forAppender(a, { converter: JSToDuckDBValueConverter });
      for (let i = s; i < s + 100_000; i++) { const d = "2024-01-" + String((i % 28) + 1).padStart(2, "0"); wr.appendRow([i, "customer " + i, (i % 1000) / 7, new DuckDBDateValue(Date.UTC(+d.slice(0,4), +d.slice(5,7)-1, +d.slice(8,10)) / 86400000)]); }
      wr.flush(); a.closeSync();
    }
    await c.run("COMMIT");
    console.log("direct pk", pk, performance.now() - t0);
  }
}
main();
