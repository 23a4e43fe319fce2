import { DuckDBInstance } from "@duckdb/node-api";
import { performance } from "node:perf_hooks";
import { chunkToObjects, tauJsonConverter } from "./runtime/connectors/duckdb-values";
async function main() {
  const c = await (await DuckDBInstance.create(":memory:")).connect();
  await c.run("CREATE TABLE t AS SELECT range AS id, 'customer ' || range AS name, (range % 1000) / 7 AS amount, DATE '2024-01-01' + (range % 28)::INT AS day FROM range(1000000)");
  for (const v of ["getRows", "convertRows", "convertColumns"]) {
    const r = await c.stream("SELECT * FROM t"); const names = r.deduplicatedColumnNames(); const types = r.columnTypes();
    const t0 = performance.now(); let n = 0;
    for (;;) { const ch = await r.fetchChunk(); if (!ch || ch.rowCount === 0) break;
      if (v === "getRows") n += chunkToObjects(ch, names, types).length;
      else if (v === "convertRows") { const rows = ch.convertRows(tauJsonConverter); for (const vals of rows) { const o: any = {}; for (let i = 0; i < names.length; i++) o[names[i]] = vals[i]; n++; } }
      else { const cols = ch.convertColumns(tauJsonConverter); const len = ch.rowCount; for (let r2 = 0; r2 < len; r2++) { const o: any = {}; for (let i = 0; i < names.length; i++) o[names[i]] = cols[i][r2]; n++; } }
    }
    console.log(v, n, Math.round(performance.now() - t0));
  }
}
main();
