/**
 * dbt's BaseIncremental, BaseIncrementalUniqueKey and BaseIncrementalOnSchemaChange, on PostgreSQL, DuckDB and
 * MariaDB for real: each case runs twice and compares the target with a hand-written expected table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize } from "../../runtime/materializations";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { ENGINES, openDb, type TestDb, type Value } from "./sessions";
import { incremental, T1, T2, T3 } from "./specs";

describe.each(ENGINES)("incremental on %s", (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(engine, "incr");
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

  const states: Value[][] = [
    [1, "CT", "Connecticut", "2026-01-01 00:00:00"],
    [2, "MA", "Massachusetts", "2026-01-01 00:00:00"],
    [3, "NY", "New York", "2026-01-01 00:00:00"],
  ];
  const cols = { id: "int", code: "text", name: "text", updated_at: "ts" } as const;

  it("BaseIncremental: the first run builds the table, later runs add only rows newer than the target's maximum", async () => {
    await db.seed("events", cols, states);
    const spec = incremental({
      targetTable: db.t("incr_events"),
      sourceQuery: `SELECT * FROM ${db.t("events")}`,
      incrementalStrategy: "append",
      incrementalColumn: "updated_at",
    });
    expect((await run(spec)).rowsAffected).toBe(3);
    await db.exec(`INSERT INTO ${db.t("events")} VALUES (4, 'VT', 'Vermont', '2026-01-02 00:00:00'), (5, 'NJ', 'New Jersey', NULL)`);
    expect((await run(spec, T2, "run-2")).rowsAffected).toBe(1);
    expect((await run(spec, T3, "run-3")).rowsAffected).toBe(0);
    expect(await db.rows("incr_events", ["id", "code", "name", "updated_at"], ["id"])).toEqual([...states, [4, "VT", "Vermont", "2026-01-02 00:00:00"]]);
  });

  it("BaseIncrementalUniqueKey: one unique key updates matched rows and inserts the others", async () => {
    await db.seed("src_one", cols, states);
    const spec = incremental({ targetTable: db.t("incr_one"), sourceQuery: `SELECT * FROM ${db.t("src_one")}`, uniqueKey: ["id"] });
    await run(spec);
    await db.seed("src_one", cols, [
      [2, "MA", "Commonwealth of Massachusetts", "2026-01-02 00:00:00"],
      [4, "VT", "Vermont", "2026-01-02 00:00:00"],
    ]);
    const second = await run(spec, T2, "run-2");
    expect(second.rowsAffected).toBe(2);
    expect(second.statements.some((s) => (engine === "mysql" ? /^UPDATE/.test(s) : /^MERGE INTO/.test(s)))).toBe(true);
    await run(spec, T3, "run-3");
    expect(await db.rows("incr_one", ["id", "code", "name"], ["id"])).toEqual([
      [1, "CT", "Connecticut"],
      [2, "MA", "Commonwealth of Massachusetts"],
      [3, "NY", "New York"],
      [4, "VT", "Vermont"],
    ]);
  });

  it("BaseIncrementalUniqueKey: a trinary unique key list matches on all three columns, NULLs included", async () => {
    await db.seed("src_tri", { a: "text", b: "text", c: "int", v: "text" }, [
      ["x", null, 1, "one"],
      ["x", "y", 1, "two"],
    ]);
    const spec = incremental({ targetTable: db.t("incr_tri"), sourceQuery: `SELECT * FROM ${db.t("src_tri")}`, uniqueKey: ["a", "b", "c"] });
    await run(spec);
    await db.seed("src_tri", { a: "text", b: "text", c: "int", v: "text" }, [
      ["x", null, 1, "ONE"],
      ["x", "y", 2, "three"],
    ]);
    await run(spec, T2, "run-2");
    await run(spec, T3, "run-3");
    expect(await db.rows("incr_tri", ["a", "b", "c", "v"], ["c", "v"])).toEqual([
      ["x", null, 1, "ONE"],
      ["x", "y", 1, "two"],
      ["x", "y", 2, "three"],
    ]);
  });

  it("BaseIncrementalUniqueKey: no unique key behaves as append", async () => {
    await db.seed("src_nokey", cols, states.slice(0, 1));
    const spec = incremental({ targetTable: db.t("incr_nokey"), sourceQuery: `SELECT * FROM ${db.t("src_nokey")}` });
    await run(spec);
    await run(spec, T2, "run-2");
    expect(await db.count("incr_nokey")).toBe(2);
  });

  it("BaseIncrementalUniqueKey: a unique key the source does not return is TAU_E_MATERIALIZE_CONFIG naming the field", async () => {
    await db.seed("src_bad", cols, states);
    const spec = incremental({ targetTable: db.t("incr_bad"), sourceQuery: `SELECT * FROM ${db.t("src_bad")}`, uniqueKey: ["thisisnotacolumn"] });
    await expect(run(spec)).rejects.toMatchObject({ code: "TAU_E_MATERIALIZE_CONFIG", details: { field: "uniqueKey", column: "thisisnotacolumn" } });
  });

  it("merge refuses a source with duplicate keys (TAU_E_MATERIALIZE_DUPLICATE_KEY) and leaves the target as it was", async () => {
    await db.seed("src_dup", cols, states);
    const spec = incremental({ targetTable: db.t("incr_dup"), sourceQuery: `SELECT * FROM ${db.t("src_dup")}`, uniqueKey: ["id"] });
    await run(spec);
    await db.exec(`INSERT INTO ${db.t("src_dup")} VALUES (1, 'CT', 'Changed', NULL)`);
    const err = await run(spec, T2, "run-2").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TAU_E_MATERIALIZE_DUPLICATE_KEY", details: { duplicates: [{ id: 1 }] } });
    expect(await db.rows("incr_dup", ["id", "name"])).toEqual(states.map((r) => [r[0], r[2]]));
    expect(await db.leftovers()).toEqual([]);
  });

  it("delete+insert tolerates non-unique keys: every source row of a key replaces the target's rows of that key", async () => {
    await db.seed("src_di", { k: "int", v: "text" }, [
      [1, "a"],
      [1, "b"],
      [2, "c"],
    ]);
    const spec = incremental({ targetTable: db.t("incr_di"), sourceQuery: `SELECT * FROM ${db.t("src_di")}`, incrementalStrategy: "delete+insert", uniqueKey: ["k"] });
    await run(spec);
    await db.seed("src_di", { k: "int", v: "text" }, [
      [1, "x"],
      [1, "y"],
      [1, "z"],
    ]);
    await run(spec, T2, "run-2");
    await run(spec, T3, "run-3");
    expect(await db.rows("incr_di", ["k", "v"])).toEqual([
      [1, "x"],
      [1, "y"],
      [1, "z"],
      [2, "c"],
    ]);
  });

  it("insert_overwrite replaces whole partitions present in the new data and keeps the others", async () => {
    const pcols = { day: "date", id: "int", v: "text" } as const;
    await db.seed("src_io", pcols, [
      ["2026-01-01", 1, "a"],
      ["2026-01-01", 2, "b"],
      ["2026-01-02", 3, "c"],
    ]);
    const spec = incremental({
      targetTable: db.t("incr_io"),
      sourceQuery: `SELECT * FROM ${db.t("src_io")}`,
      incrementalStrategy: "insert_overwrite",
      partitionBy: "day",
    });
    await run(spec);
    await db.seed("src_io", pcols, [["2026-01-01", 9, "z"]]);
    await run(spec, T2, "run-2");
    await run(spec, T3, "run-3");
    expect(await db.rows("incr_io", ["day", "id", "v"], ["id"])).toEqual([
      ["2026-01-02", 3, "c"],
      ["2026-01-01", 9, "z"],
    ]);
  });

  describe("BaseIncrementalOnSchemaChange", () => {
    const before = { id: "int", field1: "text", field2: "text" } as const;
    const after = { id: "int", field1: "text", field3: "text" } as const;

    async function evolve(name: string, policy: "ignore" | "fail" | "append_new_columns" | "sync_all_columns") {
      await db.seed(`src_${name}`, before, [
        [1, "a", "b"],
        [2, "c", "d"],
      ]);
      const spec = incremental({
        targetTable: db.t(name),
        sourceQuery: `SELECT * FROM ${db.t(`src_${name}`)}`,
        uniqueKey: ["id"],
        onSchemaChange: policy,
      });
      await run(spec);
      await db.seed(`src_${name}`, after, [
        [2, "C", "e"],
        [3, "f", "g"],
      ]);
      return spec;
    }

    it("ignore writes only the columns both sides have", async () => {
      const spec = await evolve("osc_ignore", "ignore");
      await run(spec, T2, "run-2");
      await run(spec, T3, "run-3");
      expect(await db.rows("osc_ignore", ["id", "field1", "field2"])).toEqual([
        [1, "a", "b"],
        [2, "C", "d"],
        [3, "f", null],
      ]);
    });

    it("fail stops with TAU_E_MATERIALIZE_SCHEMA_CHANGED listing the differences", async () => {
      const spec = await evolve("osc_fail", "fail");
      await expect(run(spec, T2, "run-2")).rejects.toMatchObject({
        code: "TAU_E_MATERIALIZE_SCHEMA_CHANGED",
        details: { added: ["field3"], removed: ["field2"] },
      });
      expect(await db.rows("osc_fail", ["id", "field1", "field2"])).toEqual([
        [1, "a", "b"],
        [2, "c", "d"],
      ]);
    });

    it("append_new_columns adds the new column and backfills nothing", async () => {
      const spec = await evolve("osc_append", "append_new_columns");
      await run(spec, T2, "run-2");
      await run(spec, T3, "run-3");
      expect(await db.rows("osc_append", ["id", "field1", "field2", "field3"])).toEqual([
        [1, "a", "b", null],
        [2, "C", "d", "e"],
        [3, "f", null, "g"],
      ]);
    });

    it("sync_all_columns adds new columns, drops removed ones and changes types", async () => {
      const spec = await evolve("osc_sync", "sync_all_columns");
      await run(spec, T2, "run-2");
      await run(spec, T3, "run-3");
      expect(await db.rows("osc_sync", ["id", "field1", "field3"])).toEqual([
        [1, "a", null],
        [2, "C", "e"],
        [3, "f", "g"],
      ]);
      await expect(db.rows("osc_sync", ["field2"])).rejects.toThrow();
      // id becomes text in the source: the target's column type follows.
      await db.seed("src_osc_sync", { id: "text", field1: "text", field3: "text" }, [["4", "h", "i"]]);
      await run(spec, T3, "run-4");
      expect(await db.rows("osc_sync", ["id"])).toEqual([["1"], ["2"], ["3"], ["4"]]);
    });
  });
});
