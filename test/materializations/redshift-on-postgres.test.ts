/**
 * The redshift dialect executed for real on PostgreSQL, for the SQL both speak (everything but SORTKEY DDL):
 * what the golden files show for redshift is also run, twice, against a hand-written expected table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize } from "../../runtime/materializations";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { openDb, type TestDb } from "./sessions";
import { appendOnly, fullRefresh, incremental, scd1, scd2, snapshot, T1, T2, T3, view } from "./specs";

describe("redshift dialect on PostgreSQL", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb("postgres", "redshift");
  });
  afterAll(async () => {
    await db?.close();
  });

  async function run(spec: MaterializationSpec, now: Date, runId = `run-${now.getTime()}`) {
    const s = await db.session();
    try {
      return await materialize(spec, { dialect: "redshift", execute: (sql) => s.execute(sql) }, { now, runId });
    } finally {
      await s.close();
    }
  }

  it("full refresh, view and append only", async () => {
    await db.seed("rs_src", { id: "int", v: "text" }, [
      [1, "a"],
      [2, null],
    ]);
    const src = `SELECT * FROM ${db.t("rs_src")}`;
    await run(fullRefresh({ targetTable: db.t("rs_fr"), sourceQuery: src }), T1);
    const again = await run(fullRefresh({ targetTable: db.t("rs_fr"), sourceQuery: src }), T2);
    expect(again.statements).toContain(`LOCK TABLE "${db.t("rs_fr").replace(".", '"."')}"`);
    expect(await db.rows("rs_fr", ["id", "v"])).toEqual([
      [1, "a"],
      [2, null],
    ]);
    await run(view({ targetTable: db.t("rs_fr"), sourceQuery: `${src} WHERE id = 1` }), T2);
    expect(await db.count("rs_fr")).toBe(1);
    const log = appendOnly({ targetTable: db.t("rs_log"), sourceQuery: src });
    await run(log, T1);
    await run(log, T2);
    expect(await db.count("rs_log")).toBe(2);
  });

  it("incremental merge (as NULL-safe delete + insert), delete+insert and insert_overwrite", async () => {
    await db.seed("rs_inc", { id: "int", day: "date", v: "text" }, [
      [1, "2026-01-01", "a"],
      [null, "2026-01-01", "n"],
      [2, "2026-01-02", "b"],
    ]);
    const src = `SELECT * FROM ${db.t("rs_inc")}`;
    const merge = incremental({ targetTable: db.t("rs_merge"), sourceQuery: src, uniqueKey: ["id"] });
    const overwrite = incremental({ targetTable: db.t("rs_io"), sourceQuery: src, incrementalStrategy: "insert_overwrite", partitionBy: "day" });
    await run(merge, T1);
    await run(overwrite, T1);
    await db.seed("rs_inc", { id: "int", day: "date", v: "text" }, [
      [null, "2026-01-01", "N"],
      [3, "2026-01-01", "c"],
    ]);
    for (const now of [T2, T3]) {
      await run(merge, now);
      await run(overwrite, now);
    }
    expect(await db.rows("rs_merge", ["id", "v"], ["v"])).toEqual([
      [null, "N"],
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
    expect(await db.rows("rs_io", ["id", "day", "v"], ["v"])).toEqual([
      [null, "2026-01-01", "N"],
      [2, "2026-01-02", "b"],
      [3, "2026-01-01", "c"],
    ]);
  });

  it("scd type 1 and 2, and snapshot with retention", async () => {
    await db.seed("rs_dim", { id: "int", tier: "text" }, [
      [1, "gold"],
      [2, "silver"],
    ]);
    const src = `SELECT * FROM ${db.t("rs_dim")}`;
    const hist = scd2({ targetTable: db.t("rs_hist"), sourceQuery: src, uniqueKey: ["id"], invalidateHardDeletes: true });
    const flat = scd1({ targetTable: db.t("rs_flat"), sourceQuery: src, uniqueKey: ["id"], updatedAtColumn: "changed_at" });
    const snap = snapshot({ targetTable: db.t("rs_snap"), sourceQuery: src, retainSnapshots: 1 });
    for (const spec of [hist, flat, snap]) await run(spec, T1);
    await db.seed("rs_dim", { id: "int", tier: "text" }, [[1, "platinum"]]);
    for (const now of [T2, T3]) for (const spec of [hist, flat, snap]) await run(spec, now);
    expect(await db.rows("rs_hist", ["id", "tier", "valid_from", "valid_to", "is_current"], ["id", "valid_from"])).toEqual([
      [1, "gold", "2026-01-01 00:00:00", "2026-01-02 00:00:00", 0],
      [1, "platinum", "2026-01-02 00:00:00", null, 1],
      [2, "silver", "2026-01-01 00:00:00", "2026-01-02 00:00:00", 0],
    ]);
    expect(await db.rows("rs_flat", ["id", "tier", "changed_at"])).toEqual([
      [1, "platinum", "2026-01-02 00:00:00"],
      [2, "silver", "2026-01-01 00:00:00"],
    ]);
    expect(await db.rows("rs_snap", ["id", "tier", "snapshot_at"])).toEqual([[1, "platinum", "2026-01-03 00:00:00"]]);
  });
});
