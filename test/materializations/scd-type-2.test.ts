/**
 * SCD type 2 on PostgreSQL, DuckDB and MariaDB for real: dbt's BaseSimpleSnapshot (updates, inserts, deletes,
 * revives), BaseSnapshotTimestamp and BaseSnapshotCheckCols, and one regression test per open dbt snapshot bug
 * the engine must not have (#2034, #4661, #11235, #11950, #6215).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize, TargetLocks } from "../../runtime/materializations";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { ENGINES, openDb, type TestDb, type Value } from "./sessions";
import { scd2, T1, T2, T3, T4 } from "./specs";

const D1 = "2026-01-01 00:00:00";
const D2 = "2026-01-02 00:00:00";
const D3 = "2026-01-03 00:00:00";
const D4 = "2026-01-04 00:00:00";
const HISTORY = ["id", "name", "tier", "valid_from", "valid_to", "is_current"];

describe.each(ENGINES)("scd_type_2 on %s", (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(engine, "scd2");
  });
  afterAll(async () => {
    await db?.close();
  });

  async function run(spec: MaterializationSpec, now: Date, runId = `run-${now.getTime()}`, locks?: TargetLocks) {
    const s = await db.session();
    try {
      return await materialize(spec, s, { now, runId, locks });
    } finally {
      await s.close();
    }
  }

  const customers = { id: "int", name: "text", tier: "text" } as const;
  async function seedCustomers(name: string, rows: Value[][]): Promise<void> {
    await db.seed(name, customers, rows);
  }
  const history = (name: string) => db.rows(name, HISTORY, ["id", "valid_from"]);

  describe("BaseSimpleSnapshot", () => {
    it("captures updates: the changed row is closed and a new current version opens at the run's time", async () => {
      await seedCustomers("c_upd", [
        [1, "Ann", "gold"],
        [2, "Bob", "silver"],
      ]);
      const spec = scd2({ targetTable: db.t("snap_upd"), sourceQuery: `SELECT * FROM ${db.t("c_upd")}`, uniqueKey: ["id"] });
      expect((await run(spec, T1)).rowsAffected).toBe(2);
      await db.exec(`UPDATE ${db.t("c_upd")} SET tier = 'platinum' WHERE id = 1`);
      expect((await run(spec, T2)).rowsAffected).toBe(2); // one closed, one opened
      expect((await run(spec, T3)).rowsAffected).toBe(0);
      expect(await history("snap_upd")).toEqual([
        [1, "Ann", "gold", D1, D2, 0],
        [1, "Ann", "platinum", D2, null, 1],
        [2, "Bob", "silver", D1, null, 1],
      ]);
    });

    it("captures inserts: a new key gets a current version", async () => {
      await seedCustomers("c_ins", [[1, "Ann", "gold"]]);
      const spec = scd2({ targetTable: db.t("snap_ins"), sourceQuery: `SELECT * FROM ${db.t("c_ins")}`, uniqueKey: ["id"] });
      await run(spec, T1);
      await db.exec(`INSERT INTO ${db.t("c_ins")} VALUES (3, 'Cy', 'bronze')`);
      await run(spec, T2);
      await run(spec, T3);
      expect(await history("snap_ins")).toEqual([
        [1, "Ann", "gold", D1, null, 1],
        [3, "Cy", "bronze", D2, null, 1],
      ]);
    });

    it("captures deletes when invalidateHardDeletes is on, and leaves them open when it is off", async () => {
      for (const [name, invalidate] of [
        ["del_on", true],
        ["del_off", false],
      ] as const) {
        await seedCustomers(`c_${name}`, [
          [1, "Ann", "gold"],
          [2, "Bob", "silver"],
        ]);
        const spec = scd2({
          targetTable: db.t(`snap_${name}`),
          sourceQuery: `SELECT * FROM ${db.t(`c_${name}`)}`,
          uniqueKey: ["id"],
          invalidateHardDeletes: invalidate,
        });
        await run(spec, T1);
        await db.exec(`DELETE FROM ${db.t(`c_${name}`)} WHERE id = 2`);
        await run(spec, T2);
        await run(spec, T3);
        expect(await history(`snap_${name}`)).toEqual([
          [1, "Ann", "gold", D1, null, 1],
          invalidate ? [2, "Bob", "silver", D1, D2, 0] : [2, "Bob", "silver", D1, null, 1],
        ]);
      }
    });

    it("captures revives: a key that comes back after a hard delete gets a new current row", async () => {
      await seedCustomers("c_rev", [
        [1, "Ann", "gold"],
        [2, "Bob", "silver"],
      ]);
      const spec = scd2({ targetTable: db.t("snap_rev"), sourceQuery: `SELECT * FROM ${db.t("c_rev")}`, uniqueKey: ["id"], invalidateHardDeletes: true });
      await run(spec, T1);
      await db.exec(`DELETE FROM ${db.t("c_rev")} WHERE id = 2`);
      await run(spec, T2);
      await db.exec(`INSERT INTO ${db.t("c_rev")} VALUES (2, 'Bob', 'silver')`);
      await run(spec, T3);
      await run(spec, T4);
      expect(await history("snap_rev")).toEqual([
        [1, "Ann", "gold", D1, null, 1],
        [2, "Bob", "silver", D1, D2, 0],
        [2, "Bob", "silver", D3, null, 1],
      ]);
    });
  });

  it("BaseSnapshotTimestamp: versions start at the source's updatedAtColumn, and an older timestamp is not a change", async () => {
    await db.seed("c_ts", { id: "int", name: "text", updated_at: "ts" }, [
      [1, "Ann", "2025-12-01 00:00:00"],
      [2, "Bob", "2025-12-01 00:00:00"],
    ]);
    const spec = scd2({ targetTable: db.t("snap_ts"), sourceQuery: `SELECT * FROM ${db.t("c_ts")}`, uniqueKey: ["id"], updatedAtColumn: "updated_at" });
    await run(spec, T1);
    await db.exec(`UPDATE ${db.t("c_ts")} SET name = 'Annie', updated_at = '2025-12-15 00:00:00' WHERE id = 1`);
    await db.exec(`UPDATE ${db.t("c_ts")} SET name = 'Bobby', updated_at = '2025-11-01 00:00:00' WHERE id = 2`);
    await run(spec, T2);
    await run(spec, T3);
    expect(await db.rows("snap_ts", ["id", "name", "valid_from", "valid_to", "is_current"], ["id", "valid_from"])).toEqual([
      [1, "Ann", "2025-12-01 00:00:00", "2025-12-15 00:00:00", 0],
      [1, "Annie", "2025-12-15 00:00:00", null, 1],
      [2, "Bob", "2025-12-01 00:00:00", null, 1],
    ]);
  });

  it("BaseSnapshotCheckCols: only the tracked columns open a new version", async () => {
    await seedCustomers("c_chk", [[1, "Ann", "gold"]]);
    const spec = scd2({ targetTable: db.t("snap_chk"), sourceQuery: `SELECT * FROM ${db.t("c_chk")}`, uniqueKey: ["id"], trackedColumns: ["tier"] });
    await run(spec, T1);
    await db.exec(`UPDATE ${db.t("c_chk")} SET name = 'Annie' WHERE id = 1`);
    await run(spec, T2);
    await db.exec(`UPDATE ${db.t("c_chk")} SET tier = 'silver' WHERE id = 1`);
    await run(spec, T3);
    expect(await history("snap_chk")).toEqual([
      [1, "Ann", "gold", D1, D3, 0],
      [1, "Annie", "silver", D3, null, 1],
    ]);
    const hashes = await db.rows("snap_chk", ["row_hash"], ["valid_from"]);
    expect(hashes[0]![0]).toMatch(/^[0-9a-f]{32}$/);
    expect(hashes[0]![0]).not.toBe(hashes[1]![0]);
  });

  describe("regressions of dbt's open snapshot bugs", () => {
    it("dbt #11235: NULL→value and value→NULL under the check strategy are changes", async () => {
      await seedCustomers("c_null", [[1, "Ann", null]]);
      const spec = scd2({ targetTable: db.t("snap_null"), sourceQuery: `SELECT * FROM ${db.t("c_null")}`, uniqueKey: ["id"], trackedColumns: ["tier"] });
      await run(spec, T1);
      await db.exec(`UPDATE ${db.t("c_null")} SET tier = 'gold' WHERE id = 1`);
      await run(spec, T2);
      await db.exec(`UPDATE ${db.t("c_null")} SET tier = NULL WHERE id = 1`);
      await run(spec, T3);
      await run(spec, T4);
      expect(await history("snap_null")).toEqual([
        [1, "Ann", null, D1, D2, 0],
        [1, "Ann", "gold", D2, D3, 0],
        [1, "Ann", null, D3, null, 1],
      ]);
    });

    it("dbt #11950: a NULL inside a composite key with hard deletes is matched, not closed and re-inserted", async () => {
      await db.seed("c_ck", { region: "text", code: "text", v: "int" }, [
        ["eu", null, 1],
        ["eu", "a", 2],
      ]);
      const spec = scd2({
        targetTable: db.t("snap_ck"),
        sourceQuery: `SELECT * FROM ${db.t("c_ck")}`,
        uniqueKey: ["region", "code"],
        invalidateHardDeletes: true,
      });
      await run(spec, T1);
      expect((await run(spec, T2)).rowsAffected).toBe(0);
      await db.exec(`UPDATE ${db.t("c_ck")} SET v = 9 WHERE code IS NULL`);
      await run(spec, T3);
      expect(await db.rows("snap_ck", ["region", "code", "v", "valid_from", "valid_to", "is_current"], ["v"])).toEqual([
        ["eu", null, 1, D1, D3, 0],
        ["eu", "a", 2, D1, null, 1],
        ["eu", null, 9, D3, null, 1],
      ]);
    });

    it("dbt #6215: a duplicate key in the source with hard deletes is TAU_E_MATERIALIZE_DUPLICATE_KEY and history stays intact", async () => {
      await seedCustomers("c_dupk", [
        [1, "Ann", "gold"],
        [2, "Bob", "silver"],
      ]);
      const spec = scd2({ targetTable: db.t("snap_dupk"), sourceQuery: `SELECT * FROM ${db.t("c_dupk")}`, uniqueKey: ["id"], invalidateHardDeletes: true });
      await run(spec, T1);
      await db.exec(`INSERT INTO ${db.t("c_dupk")} VALUES (1, 'Ann', 'platinum')`);
      await db.exec(`DELETE FROM ${db.t("c_dupk")} WHERE id = 2`);
      await expect(run(spec, T2)).rejects.toMatchObject({ code: "TAU_E_MATERIALIZE_DUPLICATE_KEY", details: { duplicates: [{ id: 1 }] } });
      expect(await history("snap_dupk")).toEqual([
        [1, "Ann", "gold", D1, null, 1],
        [2, "Bob", "silver", D1, null, 1],
      ]);
      // A duplicate on the very first run creates nothing.
      await expect(run({ ...spec, targetTable: db.t("snap_dupk_first") }, T1)).rejects.toMatchObject({ code: "TAU_E_MATERIALIZE_DUPLICATE_KEY" });
    });

    it("dbt #2034: a target that already holds two current rows for a key is refused, not made worse", async () => {
      await seedCustomers("c_two", [[1, "Ann", "gold"]]);
      const spec = scd2({ targetTable: db.t("snap_two"), sourceQuery: `SELECT * FROM ${db.t("c_two")}`, uniqueKey: ["id"] });
      await run(spec, T1);
      await db.exec(`INSERT INTO ${db.t("snap_two")} SELECT * FROM ${db.t("snap_two")}`);
      await db.exec(`INSERT INTO ${db.t("c_two")} VALUES (2, 'Bob', 'silver')`);
      await expect(run(spec, T2)).rejects.toMatchObject({ code: "TAU_E_MATERIALIZE_DUPLICATE_KEY", details: { duplicates: [{ id: 1 }] } });
      // The run's inserts were rolled back with it: Bob was not added.
      expect(await db.count("snap_two")).toBe(2);
    });

    it("dbt #4661: two runs on the same target at once do not interleave: one current row per key, no double history", async () => {
      await seedCustomers("c_race", [
        [1, "Ann", "gold"],
        [2, "Bob", "silver"],
        [3, "Cy", "bronze"],
      ]);
      const spec = scd2({ targetTable: db.t("snap_race"), sourceQuery: `SELECT * FROM ${db.t("c_race")}`, uniqueKey: ["id"], invalidateHardDeletes: true });
      await run(spec, T1);
      await db.exec(`UPDATE ${db.t("c_race")} SET tier = 'gold' WHERE id > 1`);
      // Separate in-process lock registries: on PostgreSQL and MariaDB only the database lock can serialise them
      // (DuckDB has one writer process, so its lock is the in-process one).
      const locks = engine === "duckdb" ? [undefined, undefined] : [new TargetLocks(), new TargetLocks()];
      const results = await Promise.all([run(spec, T2, "race-a", locks[0]), run(spec, T2, "race-b", locks[1])]);
      expect(results.map((r) => r.rowsAffected).sort()).toEqual([0, 4]);
      expect(await history("snap_race")).toEqual([
        [1, "Ann", "gold", D1, null, 1],
        [2, "Bob", "silver", D1, D2, 0],
        [2, "Bob", "gold", D2, null, 1],
        [3, "Cy", "bronze", D1, D2, 0],
        [3, "Cy", "gold", D2, null, 1],
      ]);
    });
  });

  it("new source columns are added to the history; a target missing the SCD columns is TAU_E_MATERIALIZE_TARGET_CONFLICT", async () => {
    await seedCustomers("c_evo", [[1, "Ann", "gold"]]);
    const spec = scd2({ targetTable: db.t("snap_evo"), sourceQuery: `SELECT * FROM ${db.t("c_evo")}`, uniqueKey: ["id"] });
    await run(spec, T1);
    await db.seed("c_evo", { id: "int", name: "text", tier: "text", email: "text" }, [[1, "Ann", "gold", "ann@example.com"]]);
    await run(spec, T2);
    expect(await db.rows("snap_evo", ["id", "email", "is_current"], ["valid_from"])).toEqual([
      [1, null, 0],
      [1, "ann@example.com", 1],
    ]);
    await db.seed("plain", { id: "int", name: "text" }, [[1, "x"]]);
    await expect(run({ ...spec, targetTable: db.t("plain") }, T1)).rejects.toMatchObject({
      code: "TAU_E_MATERIALIZE_TARGET_CONFLICT",
      details: { missing: ["valid_from", "valid_to", "is_current", "row_hash"] },
    });
  });
});
