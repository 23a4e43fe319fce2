import { DuckDBInstance } from "@duckdb/node-api";
import { performance } from "node:perf_hooks";
async function main() {
  for (const variant of ["plain", "nocast", "threshold", "memory"]) {
    const inst = await DuckDBInstance.create(variant === "memory" ? ":memory:" : "/tmp/prof3-" + variant + Date.now() + ".duckdb"); const c = await inst.connect();
    if (variant === "threshold") await c.run("SET checkpoint_threshold='4GB'");
    await c.run("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, amount DOUBLE, day DATE)");
    await c.run(`CREATE TEMP TABLE st AS SELECT range AS id, 'customer ' || range AS name, (range % 1000) / 7 AS amount, ${variant === "nocast" ? "DATE '2024-01-01' + (range % 28)::INT" : "strftime(DATE '2024-01-01' + (range % 28)::INT, '%Y-%m-%d')"} AS day FROM range(100000)`);
    let t = 0;
    for (let s = 0; s < 10; s++) {
      const t0 = performance.now();
      await c.run("BEGIN"); await c.run(`INSERT INTO t BY NAME SELECT id + ${s * 100000} AS id, name, amount, day FROM temp.main.st`); await c.run("COMMIT");
      t += performance.now() - t0;
    }
    const t0 = performance.now(); await c.run("CHECKPOINT"); const cp = performance.now() - t0;
    console.log(variant, Math.round(t), "checkpoint", Math.round(cp));
    c.closeSync(); inst.closeSync();
  }
}
main();
