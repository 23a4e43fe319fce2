/**
 * SCD type 1, snapshot and partitioned on PostgreSQL, DuckDB and MariaDB for real: each case runs twice and
 * compares the target with a hand-written expected table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize } from "../../runtime/materializations";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { ENGINES, openDb, type TestDb } from "./sessions";
import { partitioned, scd1, snapshot, T1, T2, T3, T4 } from "./specs";

const D1 = "2026-01-01 00:00:00";
const D2 = "2026-01-02 00:00:00";
const D3 = "2026-01-03 00:00:00";

describe.each(ENGINES)("scd_type_1, snapshot and partitioned on %s", (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(engine, "more");
  });
  afterAll(async () => {
    await db?.close();
  });

  async function run(spec: MaterializationSpec, now: Date, runId = `run-${now.getTime()}`) {
    const s = await db.session();
    try {
      return await materialize(spec, s, { now, runId });
    } finally {
      await s.close();
    }
  }

  describe("scd_type_1", () => {
    it("updates tracked columns in place and sets updatedAtColumn only when a tracked value changed", async () => {
      await db.seed("p1", { id: "int", name: "text", price: "int", note: "text" }, [
        [1, "pen", 2, "blue"],
        [2, "cup", null, "white"],
      ]);
      const spec = scd1({
        targetTable: db.t("dim_p1"),
        sourceQuery: `SELECT * FROM ${db.t("p1")}`,
        uniqueKey: ["id"],
        trackedColumns: ["name", "price"],
        updatedAtColumn: "updated_at",
      });
      expect((await run(spec, T1)).rowsAffected).toBe(2);
      await db.exec(`UPDATE ${db.t("p1")} SET price = 3 WHERE id = 2`); // NULL → value is a change
      await db.exec(`UPDATE ${db.t("p1")} SET note = 'red' WHERE id = 1`); // untracked: no update
      await db.exec(`INSERT INTO ${db.t("p1")} VALUES (3, 'ink', 1, 'black')`);
      expect((await run(spec, T2)).rowsAffected).toBe(2);
      expect((await run(spec, T3)).rowsAffected).toBe(0);
      expect(await db.rows("dim_p1", ["id", "name", "price", "note", "updated_at"], ["id"])).toEqual([
        [1, "pen", 2, "blue", D1],
        [2, "cup", 3, "white", D2],
        [3, "ink", 1, "black", D2],
      ]);
    });

    it("refuses duplicate source keys with TAU_E_MATERIALIZE_DUPLICATE_KEY", async () => {
      await db.seed("p1d", { id: "int", name: "text" }, [
        [1, "a"],
        [1, "b"],
      ]);
      await expect(run(scd1({ targetTable: db.t("dim_p1d"), sourceQuery: `SELECT * FROM ${db.t("p1d")}`, uniqueKey: ["id"] }), T1)).rejects.toMatchObject({
        code: "TAU_E_MATERIALIZE_DUPLICATE_KEY",
      });
    });
  });

  describe("snapshot", () => {
    it("stamps a point-in-time copy per run; rerunning a run id replaces its copy; retainSnapshots prunes the oldest", async () => {
      await db.seed("acct", { id: "int", balance: "int" }, [
        [1, 10],
        [2, 20],
      ]);
      const spec = snapshot({ targetTable: db.t("acct_snap"), sourceQuery: `SELECT * FROM ${db.t("acct")}`, retainSnapshots: 2 });
      expect((await run(spec, T1, "s1")).rowsAffected).toBe(2);
      await db.exec(`UPDATE ${db.t("acct")} SET balance = 15 WHERE id = 1`);
      await run(spec, T2, "s2");
      await run(spec, T2, "s2"); // a retried run
      await db.exec(`DELETE FROM ${db.t("acct")} WHERE id = 2`);
      await run(spec, T3, "s3");
      expect(await db.rows("acct_snap", ["snapshot_id", "snapshot_at", "id", "balance"])).toEqual([
        ["s2", D2, 1, 15],
        ["s2", D2, 2, 20],
        ["s3", D3, 1, 15],
      ]);
    });

    it("refuses a source that already has the snapshot columns", async () => {
      await db.seed("acct2", { id: "int", snapshot_id: "text" }, [[1, "x"]]);
      await expect(run(snapshot({ targetTable: db.t("acct2_snap"), sourceQuery: `SELECT * FROM ${db.t("acct2")}` }), T1)).rejects.toMatchObject({
        code: "TAU_E_MATERIALIZE_CONFIG",
        details: { field: "snapshotIdColumn" },
      });
    });
  });

  describe("partitioned", () => {
    const ev = { event_id: "int", event_time: "ts", kind: "text" } as const;

    it("replaces the day partitions present in the new data, keeps the others, and deletes expired partitions", async () => {
      await db.seed("ev", ev, [
        [1, "2025-12-01 10:00:00", "old"],
        [2, "2026-01-01 08:00:00", "a"],
        [3, "2026-01-01 09:00:00", "b"],
        [4, "2026-01-02 09:00:00", "c"],
      ]);
      const spec = partitioned({
        targetTable: db.t("fct_ev"),
        sourceQuery: `SELECT * FROM ${db.t("ev")}`,
        partitionBy: "event_time",
        partitionGranularity: "day",
        clusterBy: ["kind"],
        partitionExpirationDays: 7,
      });
      await run(spec, T2);
      await db.seed("ev", ev, [[5, "2026-01-01 23:59:59", "late"]]);
      await run(spec, T3);
      await run(spec, T3);
      expect(await db.rows("fct_ev", ["event_id", "event_time", "kind"], ["event_id"])).toEqual([
        [4, "2026-01-02 09:00:00", "c"],
        [5, "2026-01-01 23:59:59", "late"],
      ]);
    });

    it("merges by uniqueKey when one is given, and month granularity groups a whole month", async () => {
      await db.seed("ev2", ev, [
        [1, "2026-01-05 00:00:00", "a"],
        [2, "2026-02-05 00:00:00", "b"],
      ]);
      const keyed = partitioned({ targetTable: db.t("fct_ev2"), sourceQuery: `SELECT * FROM ${db.t("ev2")}`, partitionBy: "event_time", uniqueKey: ["event_id"] });
      await run(keyed, T1);
      await db.seed("ev2", ev, [[1, "2026-01-05 00:00:00", "A"]]);
      await run(keyed, T2);
      await run(keyed, T2);
      expect(await db.rows("fct_ev2", ["event_id", "kind"])).toEqual([
        [1, "A"],
        [2, "b"],
      ]);
      const monthly = partitioned({ targetTable: db.t("fct_ev3"), sourceQuery: `SELECT * FROM ${db.t("ev2")}`, partitionBy: "event_time", partitionGranularity: "month" });
      await db.seed("ev2", ev, [
        [1, "2026-01-05 00:00:00", "a"],
        [2, "2026-01-25 00:00:00", "b"],
        [3, "2026-02-05 00:00:00", "c"],
      ]);
      await run(monthly, T1);
      await db.seed("ev2", ev, [[4, "2026-01-31 00:00:00", "d"]]);
      await run(monthly, T4);
      expect(await db.rows("fct_ev3", ["event_id"])).toEqual([[3], [4]]);
    });

    it("with incrementalColumn, appends only rows newer than the target's maximum and keeps the partition's older rows", async () => {
      await db.seed("ev5", ev, [
        [1, "2026-01-01 08:00:00", "a"],
        [2, "2026-01-01 09:00:00", "b"],
      ]);
      const spec = partitioned({
        targetTable: db.t("fct_ev5"),
        sourceQuery: `SELECT * FROM ${db.t("ev5")}`,
        partitionBy: "event_time",
        incrementalColumn: "event_time",
      });
      await run(spec, T1);
      await db.exec(`INSERT INTO ${db.t("ev5")} VALUES (3, '2026-01-01 10:00:00', 'c')`);
      expect((await run(spec, T2)).rowsAffected).toBe(1);
      expect((await run(spec, T2)).rowsAffected).toBe(0);
      expect(await db.rows("fct_ev5", ["event_id"])).toEqual([[1], [2], [3]]);
    });

    it("list partitions replace by value", async () => {
      await db.seed("ev4", { region: "text", n: "int" }, [
        ["eu", 1],
        ["us", 2],
      ]);
      const spec = partitioned({ targetTable: db.t("fct_ev4"), sourceQuery: `SELECT * FROM ${db.t("ev4")}`, partitionBy: "region", partitionType: "list" });
      await run(spec, T1);
      await db.seed("ev4", { region: "text", n: "int" }, [["eu", 3]]);
      await run(spec, T2);
      await run(spec, T2);
      expect(await db.rows("fct_ev4", ["region", "n"])).toEqual([
        ["eu", 3],
        ["us", 2],
      ]);
    });
  });
});
