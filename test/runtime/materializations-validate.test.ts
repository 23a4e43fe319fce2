/**
 * `validateSpec` and the config classes of `tau/materializations`: the seed's configs build with their
 * defaults, every bad field is refused with TAU_E_MATERIALIZE_CONFIG naming it, and any valid spec survives a
 * JSON round trip through the validator unchanged (the guest validates, the host validates the same bytes
 * again — they must agree).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TauSdkError } from "../../runtime/sdk/errors";
import {
  FullRefreshConfig,
  IncrementalConfig,
  MaterializationConfig,
  MaterializationType,
  PartitionedConfig,
  SCDType1Config,
  SCDType2Config,
  SnapshotConfig,
} from "../../runtime/sdk/materializations";
import { specOf } from "../../runtime/sdk/materializations/configs";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { STRATEGY_FIELDS, validateSpec } from "../../runtime/sdk/materializations/validate";

const base = { targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders" };

function refusal(fn: () => unknown): TauSdkError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TauSdkError);
    return err as TauSdkError;
  }
  throw new Error("expected a TAU_E_MATERIALIZE_CONFIG error");
}

describe("the seed's configs", () => {
  it("build with the seed's fields and fill in the documented defaults", () => {
    const inc = new IncrementalConfig({ ...base, uniqueKey: "order_id", incrementalColumn: "updated_at", onSchemaChange: "append_new_columns" });
    expect(inc.toJSON()).toEqual({
      strategy: "incremental",
      ...base,
      preHook: [],
      postHook: [],
      incrementalStrategy: "merge",
      uniqueKey: ["order_id"],
      incrementalColumn: "updated_at",
      onSchemaChange: "append_new_columns",
      partitionBy: null,
    });
    expect(inc.uniqueKey).toEqual(["order_id"]);
    expect(inc).toBeInstanceOf(MaterializationConfig);

    const part = new PartitionedConfig({
      targetTable: "analytics.events",
      sourceQuery: "SELECT * FROM raw.events",
      uniqueKey: "event_id",
      partitionBy: "event_date",
      partitionType: "date",
      partitionGranularity: "day",
      clusterBy: ["user_id", "event_type"],
      incrementalColumn: "created_at",
      partitionExpirationDays: 90,
    });
    expect(part.clusterBy).toEqual(["user_id", "event_type"]);
    expect(part.partitionExpirationDays).toBe(90);
    expect(part.incrementalColumn).toBe("created_at");

    const scd2 = new SCDType2Config({ targetTable: "analytics.dim_customers", sourceQuery: "SELECT customer_id, name, tier FROM raw.customers", uniqueKey: "customer_id", trackedColumns: ["name", "tier"], invalidateHardDeletes: true });
    expect(scd2.toJSON()).toMatchObject({
      validFromColumn: "valid_from",
      validToColumn: "valid_to",
      isCurrentColumn: "is_current",
      hashColumn: "row_hash",
      invalidateHardDeletes: true,
      updatedAtColumn: null,
    });

    const scd1 = new SCDType1Config({ ...base, uniqueKey: ["tenant", "product_id"], trackedColumns: ["name", "price"], updatedAtColumn: "updated_at" });
    expect(scd1.uniqueKey).toEqual(["tenant", "product_id"]);

    const snap = new SnapshotConfig({ ...base, retainSnapshots: 30 });
    expect(snap.toJSON()).toMatchObject({ strategy: "snapshot", snapshotTimestampColumn: "snapshot_at", snapshotIdColumn: "snapshot_id", retainSnapshots: 30 });

    const full = new FullRefreshConfig({ ...base, preHook: "DROP INDEX IF EXISTS idx_sku", postHook: ["CREATE INDEX idx_sku ON analytics.orders (sku);  "] });
    expect(full.preHook).toEqual(["DROP INDEX IF EXISTS idx_sku"]);
    expect(full.postHook).toEqual(["CREATE INDEX idx_sku ON analytics.orders (sku)"]);

    expect(new MaterializationConfig({ ...base, strategy: MaterializationType.APPEND_ONLY }).strategy).toBe("append_only");
    expect(new MaterializationConfig({ ...base, strategy: "view" }).strategy).toBe("view");
  });

  it("are read-only: a field cannot be reassigned, and the kept spec is what ctx.materialize sends", () => {
    const cfg = new IncrementalConfig({ ...base, uniqueKey: ["id"] });
    expect(() => {
      (cfg as unknown as { targetTable: string }).targetTable = "other.table";
    }).toThrow(TypeError);
    expect(() => (cfg.uniqueKey as string[]).push("x")).toThrow(TypeError);
    expect(specOf(cfg).targetTable).toBe("analytics.orders");
  });

  it("MaterializationType lists all eight strategies, and a look-alike plain object is validated when materialized", () => {
    expect(Object.values(MaterializationType).sort()).toEqual(Object.keys(STRATEGY_FIELDS).sort());
    expect(specOf({ strategy: "view", ...base })).toMatchObject({ strategy: "view", preHook: [] });
    expect(refusal(() => specOf({ ...base })).details).toMatchObject({ field: "strategy", config: "ctx.materialize config" });
  });
});

/** [what, build, field named, message fragment] — every refusal the validator makes. */
const refusals: Array<[string, () => unknown, string, string]> = [
  ["options not an object", () => new FullRefreshConfig(null as never), "options", "must be an object"],
  ["missing targetTable", () => new FullRefreshConfig({ sourceQuery: "SELECT 1" } as never), "targetTable", "non-empty string"],
  ["three-part table", () => new FullRefreshConfig({ ...base, targetTable: "a.b.c" }), "targetTable", "more than two parts"],
  ["table with a quote", () => new FullRefreshConfig({ ...base, targetTable: 'orders"; DROP TABLE x; --' }), "targetTable", "not a valid table name"],
  ["table part too long", () => new FullRefreshConfig({ ...base, targetTable: `s.${"t".repeat(64)}` }), "targetTable", "not a valid table name"],
  ["empty sourceQuery", () => new FullRefreshConfig({ ...base, sourceQuery: " ;\n" }), "sourceQuery", "is empty"],
  ["sourceQuery not a string", () => new FullRefreshConfig({ ...base, sourceQuery: 42 as never }), "sourceQuery", "must be SQL text"],
  ["sourceQuery too long", () => new FullRefreshConfig({ ...base, sourceQuery: "x".repeat(256 * 1024 + 1) }), "sourceQuery", "the limit is"],
  ["hook not a string", () => new FullRefreshConfig({ ...base, preHook: [1 as never] }), "preHook[0]", "must be SQL text"],
  ["hook object", () => new FullRefreshConfig({ ...base, postHook: {} as never }), "postHook", "a list of them"],
  ["too many hooks", () => new FullRefreshConfig({ ...base, postHook: Array(21).fill("SELECT 1") }), "postHook", "the limit is 20"],
  ["unknown field", () => new FullRefreshConfig({ ...base, colour: "red" } as never), "colour", "not a field of this config"],
  ["snake_case field", () => new IncrementalConfig({ ...base, unique_key: "id" } as never), "unique_key", "Did you mean uniqueKey?"],
  ["field of another config", () => new FullRefreshConfig({ ...base, uniqueKey: "id" } as never), "uniqueKey", "belongs to"],
  ["merge without uniqueKey", () => new IncrementalConfig({ ...base } as never), "uniqueKey", 'required for incrementalStrategy "merge"'],
  ["delete+insert without uniqueKey", () => new IncrementalConfig({ ...base, incrementalStrategy: "delete+insert" } as never), "uniqueKey", "delete+insert"],
  ["unknown incrementalStrategy", () => new IncrementalConfig({ ...base, uniqueKey: "id", incrementalStrategy: "upsert" as never }), "incrementalStrategy", "must be one of"],
  ["insert_overwrite without partitionBy", () => new IncrementalConfig({ ...base, incrementalStrategy: "insert_overwrite" } as never), "partitionBy", "insert_overwrite"],
  ["bad onSchemaChange", () => new IncrementalConfig({ ...base, uniqueKey: "id", onSchemaChange: "add" as never }), "onSchemaChange", "sync_all_columns"],
  ["bad incrementalColumn", () => new IncrementalConfig({ ...base, uniqueKey: "id", incrementalColumn: "updated at" }), "incrementalColumn", "not a valid column name"],
  ["empty uniqueKey list", () => new IncrementalConfig({ ...base, uniqueKey: [] }), "uniqueKey", "empty list"],
  ["uniqueKey with a number", () => new IncrementalConfig({ ...base, uniqueKey: ["id", 3 as never] }), "uniqueKey[1]", "must be a column name"],
  ["uniqueKey twice", () => new IncrementalConfig({ ...base, uniqueKey: ["id", "ID"] }), "uniqueKey", "twice"],
  ["partitioned without partitionBy", () => new PartitionedConfig({ ...base } as never), "partitionBy", "is required"],
  ["bad partitionType", () => new PartitionedConfig({ ...base, partitionBy: "d", partitionType: "hash" as never }), "partitionType", '"date", "range", "list"'],
  ["bad partitionGranularity", () => new PartitionedConfig({ ...base, partitionBy: "d", partitionGranularity: "week" as never }), "partitionGranularity", '"hour", "day", "month", "year"'],
  ["negative expiration", () => new PartitionedConfig({ ...base, partitionBy: "d", partitionExpirationDays: -1 }), "partitionExpirationDays", "whole number"],
  ["fractional expiration", () => new PartitionedConfig({ ...base, partitionBy: "d", partitionExpirationDays: 1.5 }), "partitionExpirationDays", "whole number"],
  ["expiration on a range partition", () => new PartitionedConfig({ ...base, partitionBy: "d", partitionType: "range", partitionExpirationDays: 3 }), "partitionExpirationDays", 'only applies to partitionType "date"'],
  ["clusterBy not columns", () => new PartitionedConfig({ ...base, partitionBy: "d", clusterBy: "a,b" }), "clusterBy", "not a valid column name"],
  ["too many cluster columns", () => new PartitionedConfig({ ...base, partitionBy: "d", clusterBy: Array.from({ length: 17 }, (_, i) => `c${i}`) }), "clusterBy", "the limit is 16"],
  ["SCD1 without uniqueKey", () => new SCDType1Config({ ...base } as never), "uniqueKey", "SCD type 1"],
  ["SCD1 tracks its key", () => new SCDType1Config({ ...base, uniqueKey: "id", trackedColumns: ["name", "id"] }), "trackedColumns", "uniqueKey also names"],
  ["SCD2 without uniqueKey", () => new SCDType2Config({ ...base } as never), "uniqueKey", "SCD type 2"],
  ["SCD2 meta columns collide", () => new SCDType2Config({ ...base, uniqueKey: "id", validToColumn: "valid_from" }), "validToColumn", "validFromColumn also names"],
  ["SCD2 hash is a tracked column", () => new SCDType2Config({ ...base, uniqueKey: "id", trackedColumns: ["row_hash"] }), "hashColumn", "trackedColumns also names"],
  ["SCD2 updatedAt is the key", () => new SCDType2Config({ ...base, uniqueKey: "id", updatedAtColumn: "id" }), "uniqueKey", "updatedAtColumn also names"],
  ["SCD2 invalidateHardDeletes not boolean", () => new SCDType2Config({ ...base, uniqueKey: "id", invalidateHardDeletes: "yes" as never }), "invalidateHardDeletes", "true or false"],
  ["snapshot columns collide", () => new SnapshotConfig({ ...base, snapshotIdColumn: "snapshot_at" }), "snapshotIdColumn", "snapshotTimestampColumn also names"],
  ["retainSnapshots zero", () => new SnapshotConfig({ ...base, retainSnapshots: 0 }), "retainSnapshots", "from 1 to"],
  ["base class with incremental", () => new MaterializationConfig({ ...base, strategy: "incremental" as never }), "strategy", "use new IncrementalConfig"],
  ["base class without strategy", () => new MaterializationConfig({ ...base } as never), "strategy", "APPEND_ONLY"],
  ["subclass with another strategy", () => new IncrementalConfig({ ...base, uniqueKey: "id", strategy: "view" } as never), "strategy", 'fixed to "incremental"'],
];

describe("a bad field", () => {
  it.each(refusals)("is refused with the field named: %s", (_what, build, field, fragment) => {
    const err = refusal(build);
    expect(err.code).toBe("TAU_E_MATERIALIZE_CONFIG");
    expect(err.details.field).toBe(field);
    expect(err.message).toContain(fragment);
    expect(err.message).toContain(String(err.details.config));
    expect(err.hint.length).toBeGreaterThan(10);
  });

  it("accepts a single tracked column given as a string (a list of one)", () => {
    expect(new SCDType2Config({ ...base, uniqueKey: "id", trackedColumns: "name" as never }).trackedColumns).toEqual(["name"]);
  });

  it("is refused on the host too: validateSpec names the field for hostile JSON", () => {
    const hostile = JSON.parse('{"strategy":"scd_type_2","targetTable":"t","sourceQuery":"SELECT 1","uniqueKey":["id"],"__proto__":{"x":1}}');
    const err = refusal(() => validateSpec(hostile));
    expect(err.details).toMatchObject({ field: "__proto__", config: "materialization spec" });
    expect(refusal(() => validateSpec([])).details.field).toBe("config");
    expect(refusal(() => validateSpec({ ...base, strategy: "dbt" })).details).toMatchObject({ field: "strategy" });
  });
});

// ── property: valid specs round-trip ─────────────────────────────────────────────────────────────────

const ident = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
const table = fc.oneof(ident, fc.tuple(ident, ident).map(([a, b]) => `${a}.${b}`));
const sql = fc.string({ minLength: 1, maxLength: 60 }).map((s) => `SELECT ${JSON.stringify(s)} AS v`);
const hook = fc.oneof(fc.constant(undefined), sql, fc.array(sql, { maxLength: 3 }));
const distinctColumns = (min: number, max: number) => fc.uniqueArray(ident, { minLength: min, maxLength: max, selector: (c) => c.toLowerCase() });
const keyish = (cols: string[]) => (cols.length === 1 ? fc.constantFrom<string | string[]>(cols[0]!, cols) : fc.constant<string | string[]>(cols));
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const common = fc.record({ targetTable: table, sourceQuery: sql, preHook: hook, postHook: hook });
const specInput: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  common.map((c) => ({ ...c, strategy: "full_refresh" })),
  common.map((c) => ({ ...c, strategy: "append_only" })),
  common.map((c) => ({ ...c, strategy: "view" })),
  fc
    .tuple(common, distinctColumns(1, 3).chain(keyish), fc.constantFrom("merge", "delete+insert", "append", "insert_overwrite"), opt(ident), opt(fc.constantFrom("ignore", "fail", "append_new_columns", "sync_all_columns")), ident)
    .map(([c, uniqueKey, incrementalStrategy, incrementalColumn, onSchemaChange, partitionBy]) => ({
      ...c,
      strategy: "incremental",
      uniqueKey,
      incrementalStrategy,
      incrementalColumn,
      onSchemaChange,
      partitionBy: incrementalStrategy === "insert_overwrite" ? partitionBy : undefined,
    })),
  fc
    .tuple(common, ident, opt(fc.constantFrom("hour", "day", "month", "year")), opt(distinctColumns(1, 4)), opt(fc.integer({ min: 1, max: 3650 })), opt(distinctColumns(1, 2)), opt(ident))
    .map(([c, partitionBy, partitionGranularity, clusterBy, partitionExpirationDays, uniqueKey, incrementalColumn]) => ({
      ...c,
      strategy: "partitioned",
      partitionBy,
      partitionGranularity,
      clusterBy,
      partitionExpirationDays,
      uniqueKey,
      incrementalColumn,
    })),
  fc.tuple(common, distinctColumns(2, 6), fc.boolean()).map(([c, cols, withUpdated]) => ({
    ...c,
    strategy: "scd_type_1",
    uniqueKey: cols[0],
    trackedColumns: cols.slice(1, -1),
    updatedAtColumn: withUpdated ? cols[cols.length - 1] : undefined,
  })),
  fc.tuple(common, distinctColumns(6, 9), fc.boolean()).map(([c, cols, invalidateHardDeletes]) => ({
    ...c,
    strategy: "scd_type_2",
    uniqueKey: [cols[0]],
    validFromColumn: cols[1],
    validToColumn: cols[2],
    isCurrentColumn: cols[3],
    hashColumn: cols[4],
    trackedColumns: cols.slice(5),
    invalidateHardDeletes,
  })),
  fc.tuple(common, distinctColumns(2, 2), opt(fc.integer({ min: 1, max: 1000 }))).map(([c, cols, retainSnapshots]) => ({
    ...c,
    strategy: "snapshot",
    snapshotTimestampColumn: cols[0],
    snapshotIdColumn: cols[1],
    retainSnapshots,
  })),
);

describe("validateSpec (property)", () => {
  it("is idempotent over a JSON round trip: what the guest sends, the host accepts unchanged", () => {
    fc.assert(
      fc.property(specInput, (input) => {
        const once = validateSpec(input);
        const wire = JSON.parse(JSON.stringify(once)) as MaterializationSpec;
        expect(validateSpec(wire)).toEqual(once);
        expect(Object.keys(once).sort()).toEqual(["postHook", "preHook", "sourceQuery", "strategy", "targetTable", ...STRATEGY_FIELDS[once.strategy]].sort());
      }),
      { numRuns: 400 },
    );
  });

  it("gives the same spec through a config class as through validateSpec", () => {
    const classes: Record<string, new (o: never) => MaterializationConfig> = {
      full_refresh: FullRefreshConfig,
      incremental: IncrementalConfig,
      partitioned: PartitionedConfig,
      scd_type_1: SCDType1Config,
      scd_type_2: SCDType2Config,
      snapshot: SnapshotConfig,
      append_only: MaterializationConfig,
      view: MaterializationConfig,
    };
    fc.assert(
      fc.property(specInput, (input) => {
        const Class = classes[input.strategy as string]!;
        const options: Record<string, unknown> = { ...input };
        if (Class !== MaterializationConfig) delete options.strategy;
        expect(new Class(options as never).toJSON()).toEqual(validateSpec(input));
      }),
      { numRuns: 200 },
    );
  });
});
