/**
 * dbt's BaseSimpleMaterializations, on PostgreSQL, DuckDB and MariaDB for real: full refresh (table), view,
 * append only, hooks, and what a failure leaves behind. Each case runs twice and compares the target with a
 * hand-written expected table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize } from "../../runtime/materializations";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { ENGINES, openDb, type TestDb } from "./sessions";
import { appendOnly, fullRefresh, incremental, T1, T2, view } from "./specs";

describe.each(ENGINES)("simple materializations on %s", (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(engine, "simple");
  });
  afterAll(async () => {
    await db?.close();
  });

  async function run(spec: MaterializationSpec, now = T1, runId = "run-1") {
    const s = await db.session();
    try {
      return await materialize(spec, s, { now, runId });
    } finally {
      await s.close();
    }
  }

  async function seedBase(): Promise<void> {
    await db.seed("base", { id: "int", name: "text" }, [
      [1, "Easton"],
      [2, "Lillian"],
      [3, "Jeremiah"],
    ]);
  }

  it("BaseSimpleMaterializations: full refresh builds the table, and a second run leaves the same rows", async () => {
    await seedBase();
    const spec = fullRefresh({ targetTable: db.t("fr_table"), sourceQuery: `SELECT * FROM ${db.t("base")}` });
    const first = await run(spec);
    expect(first).toMatchObject({ strategy: "full_refresh", targetTable: db.t("fr_table"), rowsAffected: 3 });
    expect(first.statements.length).toBeGreaterThan(1);
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    await db.exec(`INSERT INTO ${db.t("base")} VALUES (4, 'Nora')`);
    await run(spec, T2, "run-2");
    const second = await run(spec, T2, "run-3");
    expect(second.rowsAffected).toBe(4);
    expect(await db.rows("fr_table", ["id", "name"])).toEqual([
      [1, "Easton"],
      [2, "Lillian"],
      [3, "Jeremiah"],
      [4, "Nora"],
    ]);
  });

  it("BaseSimpleMaterializations: a view replaces a table and a table replaces the view (swap)", async () => {
    await seedBase();
    const target = db.t("swap");
    await run(fullRefresh({ targetTable: target, sourceQuery: `SELECT id FROM ${db.t("base")}` }));
    const asView = await run(view({ targetTable: target, sourceQuery: `SELECT id, name FROM ${db.t("base")} WHERE id > 1` }));
    expect(asView.rowsAffected).toBe(0);
    expect(await db.rows("swap", ["id", "name"])).toEqual([
      [2, "Lillian"],
      [3, "Jeremiah"],
    ]);
    // The view follows its base table: it is not a copy.
    await db.exec(`INSERT INTO ${db.t("base")} VALUES (5, 'Ava')`);
    expect(await db.count("swap")).toBe(3);
    // A view with different columns replaces the old one (CREATE OR REPLACE VIEW alone refuses on PostgreSQL).
    await run(view({ targetTable: target, sourceQuery: `SELECT name FROM ${db.t("base")}` }));
    await run(view({ targetTable: target, sourceQuery: `SELECT name FROM ${db.t("base")}` }));
    expect(await db.count("swap")).toBe(4);
    const back = await run(fullRefresh({ targetTable: target, sourceQuery: `SELECT id FROM ${db.t("base")} WHERE id < 3` }));
    expect(back.rowsAffected).toBe(2);
    expect(await db.rows("swap", ["id"])).toEqual([[1], [2]]);
  });

  it("a view over the target follows a full refresh on DuckDB and MariaDB; PostgreSQL refuses rather than drop it", async () => {
    await seedBase();
    const target = db.t("fr_dep");
    await run(fullRefresh({ targetTable: target, sourceQuery: `SELECT * FROM ${db.t("base")}` }));
    await db.exec(`CREATE VIEW ${db.t("fr_dep_v")} AS SELECT id FROM ${target}`);
    const rebuilt = run(fullRefresh({ targetTable: target, sourceQuery: `SELECT * FROM ${db.t("base")} WHERE id = 1` }), T2, "run-2");
    if (engine === "postgres") {
      await expect(rebuilt).rejects.toMatchObject({ code: "TAU_E_MATERIALIZE_FAILED", details: { targetUnchanged: true } });
      expect(await db.count("fr_dep")).toBe(3);
    } else {
      await rebuilt;
      expect(await db.count("fr_dep")).toBe(1);
    }
    expect(await db.count("fr_dep_v")).toBe(engine === "postgres" ? 3 : 1);
    await db.exec(`DROP VIEW ${db.t("fr_dep_v")}`);
  });

  it("runs preHook and postHook around the build in the same session", async () => {
    await seedBase();
    await db.seed("hook_log", { what: "text" }, []);
    const log = db.t("hook_log");
    const spec = fullRefresh({
      targetTable: db.t("hooked"),
      sourceQuery: `SELECT * FROM ${db.t("base")}`,
      preHook: [`INSERT INTO ${log} VALUES ('pre')`],
      postHook: [`INSERT INTO ${log} SELECT 'post' FROM ${db.t("hooked")} WHERE id = 1`],
    });
    const result = await run(spec);
    expect(result.statements[0]).not.toContain("'post'");
    expect(await db.rows("hook_log", ["what"])).toEqual([["post"], ["pre"]]);
  });

  it("a failing full refresh fails with TAU_E_MATERIALIZE_FAILED and leaves the old table in place", async () => {
    await seedBase();
    const target = db.t("fr_fail");
    await run(fullRefresh({ targetTable: target, sourceQuery: `SELECT * FROM ${db.t("base")}` }));
    const err = await run(fullRefresh({ targetTable: target, sourceQuery: `SELECT no_such_column FROM ${db.t("base")}` })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TAU_E_MATERIALIZE_FAILED" });
    const details = (err as { details: Record<string, unknown> }).details;
    expect(details.statement).toContain("no_such_column");
    expect(details.targetUnchanged).toBe(engine !== "mysql");
    expect(await db.rows("fr_fail", ["id", "name"])).toEqual([
      [1, "Easton"],
      [2, "Lillian"],
      [3, "Jeremiah"],
    ]);
  });

  it("a failure after DDL leaves the target as it was where DDL is transactional, and says so in details.targetUnchanged", async () => {
    await db.seed("late", { id: "int", a: "text" }, [[1, "x"]]);
    const target = db.t("late_target");
    const spec = incremental({ targetTable: target, sourceQuery: `SELECT * FROM ${db.t("late")}`, onSchemaChange: "append_new_columns" });
    await run(spec);
    await db.seed("late", { id: "int", a: "text", b: "text" }, [[2, "y", "z"]]);
    const err = await run({ ...spec, postHook: [`SELECT * FROM ${db.t("no_such_table")}`] }, T2, "run-2").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TAU_E_MATERIALIZE_FAILED", details: { targetUnchanged: engine !== "mysql" } });
    if (engine === "mysql") {
      // DDL commits on MySQL: the added column and the committed insert stay; a rerun is still idempotent.
      expect(await db.rows("late_target", ["id", "a", "b"])).toEqual([
        [1, "x", null],
        [2, "y", "z"],
      ]);
    } else {
      expect(await db.rows("late_target", ["id", "a"])).toEqual([[1, "x"]]);
      await expect(db.rows("late_target", ["b"])).rejects.toThrow();
    }
    expect(await db.leftovers()).toEqual([]);
  });

  it("append only adds new rows, appends nothing when rerun on the same source, and adds new columns", async () => {
    await db.seed("buffer", { id: "int", msg: "text" }, [
      [1, "a"],
      [1, "a"],
      [2, null],
    ]);
    const spec = appendOnly({ targetTable: db.t("log"), sourceQuery: `SELECT * FROM ${db.t("buffer")}` });
    expect((await run(spec)).rowsAffected).toBe(3);
    expect((await run(spec, T2, "run-2")).rowsAffected).toBe(0);
    await db.seed("buffer", { id: "int", msg: "text", level: "text" }, [
      [2, null, null],
      [3, "c", "warn"],
    ]);
    expect((await run(spec, T2, "run-3")).rowsAffected).toBe(1);
    expect(await db.rows("log", ["id", "msg", "level"])).toEqual([
      [1, "a", null],
      [1, "a", null],
      [2, null, null],
      [3, "c", "warn"],
    ]);
  });

  it("append only refuses to write into a view", async () => {
    await seedBase();
    await run(view({ targetTable: db.t("av"), sourceQuery: `SELECT * FROM ${db.t("base")}` }));
    await expect(run(appendOnly({ targetTable: db.t("av"), sourceQuery: `SELECT * FROM ${db.t("base")}` }))).rejects.toMatchObject({
      code: "TAU_E_MATERIALIZE_TARGET_CONFLICT",
    });
  });
});
