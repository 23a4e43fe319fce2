import { materialize } from "/work/main/runtime/materializations";
import { openDb } from "/work/main/test/materializations/sessions";
import { scd2, incremental } from "/work/main/test/materializations/specs";
async function main() {
const N = 100_000;
for (const engine of ["postgres", "duckdb", "mysql"] as const) {
  const db = await openDb(engine, "measure");
  const series = engine === "postgres" ? `SELECT g AS id, 'name' || g AS name, g % 7 AS tier FROM generate_series(1, ${N}) g`
    : engine === "duckdb" ? `SELECT CAST(g AS INTEGER) AS id, 'name' || g AS name, CAST(g % 7 AS INTEGER) AS tier FROM range(1, ${N + 1}) t(g)`
    : `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${N}) SELECT g AS id, CONCAT('name', g) AS name, g % 7 AS tier FROM s`;
  if (engine === "mysql") await db.exec("SET SESSION cte_max_recursion_depth = 1000000").catch(() => undefined);
  await db.exec(`DROP TABLE IF EXISTS ${db.t("src")}`);
  await db.exec(engine === "mysql" ? `SET STATEMENT max_recursive_iterations = 1000000 FOR CREATE TABLE ${db.t("src")} AS ${series}` : `CREATE TABLE ${db.t("src")} AS ${series}`);
  const spec = scd2({ targetTable: db.t("hist"), sourceQuery: `SELECT * FROM ${db.t("src")}`, uniqueKey: ["id"], invalidateHardDeletes: true });
  const inc = incremental({ targetTable: db.t("inc"), sourceQuery: `SELECT * FROM ${db.t("src")}`, uniqueKey: ["id"] });
  const t = async (label: string, s: any, now: Date) => { const sess = await db.session(); const r = await materialize(s, sess, { now, runId: label + now.getTime() }); await sess.close(); console.log(engine, label, `${r.durationMs.toFixed(0)} ms`, `rows ${r.rowsAffected}`); };
  await t("scd2 build", spec, new Date("2026-01-01Z"));
  await t("scd2 no-op rerun", spec, new Date("2026-01-02Z"));
  await db.exec(`UPDATE ${db.t("src")} SET tier = tier + 100 WHERE id % 10 = 0`);
  await t("scd2 10% changed", spec, new Date("2026-01-03Z"));
  await t("merge build", inc, new Date("2026-01-01Z"));
  await t("merge rerun (all matched)", inc, new Date("2026-01-02Z"));
  await db.close();
}
}
main();
