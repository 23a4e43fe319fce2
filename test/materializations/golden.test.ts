/**
 * Golden tests of the SQL emitted for the warehouses no server runs here (bigquery, snowflake, clickhouse,
 * redshift): every strategy against a stated catalog, compared with test/materializations/golden/<dialect>/
 * <case>.sql (written by reading, kept by `vitest -u` only after reading the diff). Native idioms are also
 * asserted directly, so a regenerated golden cannot silently lose them.
 */
import { describe, expect, it } from "vitest";
import { materialize, TargetLocks } from "../../runtime/materializations";
import type { MaterializationSpec } from "../../runtime/sdk/materializations/spec";
import { CatalogSession, type Abstract, type CatalogState } from "./catalog-session";
import { appendOnly, fullRefresh, incremental, partitioned, scd1, scd2, snapshot, view } from "./specs";

const NOW = new Date("2026-03-15T06:30:00Z");
const ORDERS: [string, Abstract][] = [
  ["id", "int"],
  ["customer_id", "int"],
  ["kind", "text"],
  ["amount", "int"],
  ["updated_at", "ts"],
];
const WITH_EMAIL: [string, Abstract][] = [...ORDERS, ["email", "text"]];
const SCD2_META: [string, Abstract][] = [
  ["valid_from", "ts"],
  ["valid_to", "ts"],
  ["is_current", "bool"],
  ["row_hash", "text"],
];
const SRC = "SELECT * FROM raw.orders";

interface Case {
  name: string;
  spec: MaterializationSpec;
  state: CatalogState;
}

const CASES: Case[] = [
  { name: "full_refresh_new", spec: fullRefresh({ targetTable: "analytics.orders", sourceQuery: SRC }), state: { target: null, source: [] } },
  {
    name: "full_refresh_replace",
    spec: fullRefresh({ targetTable: "analytics.orders", sourceQuery: `${SRC};`, preHook: ["SELECT 1"], postHook: ["SELECT 2"] }),
    state: { target: ORDERS, source: [] },
  },
  { name: "view_over_table", spec: view({ targetTable: "analytics.v_orders", sourceQuery: SRC }), state: { target: ORDERS, source: [] } },
  { name: "append_only", spec: appendOnly({ targetTable: "raw.api_logs", sourceQuery: SRC }), state: { target: ORDERS, source: ORDERS } },
  {
    name: "incremental_merge",
    spec: incremental({
      targetTable: "analytics.orders",
      sourceQuery: SRC,
      uniqueKey: ["id"],
      incrementalColumn: "updated_at",
      onSchemaChange: "append_new_columns",
    }),
    state: { target: ORDERS, source: WITH_EMAIL },
  },
  {
    name: "incremental_delete_insert",
    spec: incremental({ targetTable: "analytics.orders", sourceQuery: SRC, incrementalStrategy: "delete+insert", uniqueKey: ["id", "customer_id"] }),
    state: { target: ORDERS, source: ORDERS },
  },
  {
    name: "incremental_insert_overwrite",
    spec: incremental({ targetTable: "analytics.orders", sourceQuery: SRC, incrementalStrategy: "insert_overwrite", partitionBy: "kind", onSchemaChange: "sync_all_columns" }),
    state: { target: WITH_EMAIL, source: ORDERS },
  },
  {
    name: "partitioned_create",
    spec: partitioned({
      targetTable: "analytics.events",
      sourceQuery: SRC,
      partitionBy: "updated_at",
      clusterBy: ["customer_id", "kind"],
      partitionExpirationDays: 90,
      uniqueKey: ["id"],
    }),
    state: { target: null, source: ORDERS },
  },
  {
    name: "partitioned_month_load",
    spec: partitioned({ targetTable: "analytics.events", sourceQuery: SRC, partitionBy: "updated_at", partitionGranularity: "month" }),
    state: { target: ORDERS, source: ORDERS },
  },
  {
    name: "scd_type_1",
    spec: scd1({ targetTable: "analytics.dim_orders", sourceQuery: SRC, uniqueKey: ["id"], trackedColumns: ["kind", "amount"], updatedAtColumn: "changed_at" }),
    state: { target: [...ORDERS, ["changed_at", "ts"]], source: ORDERS },
  },
  {
    name: "scd_type_2",
    spec: scd2({ targetTable: "analytics.dim_orders", sourceQuery: SRC, uniqueKey: ["id"], invalidateHardDeletes: true, updatedAtColumn: "updated_at" }),
    state: { target: [...ORDERS, ...SCD2_META], source: ORDERS },
  },
  {
    name: "scd_type_2_new",
    spec: scd2({ targetTable: "analytics.dim_orders", sourceQuery: SRC, uniqueKey: ["id"], trackedColumns: ["kind", "amount"] }),
    state: { target: null, source: ORDERS },
  },
  {
    name: "snapshot",
    spec: snapshot({ targetTable: "analytics.order_snapshots", sourceQuery: SRC, retainSnapshots: 30 }),
    state: {
      target: [
        ...ORDERS,
        ["snapshot_at", "ts"],
        ["snapshot_id", "text"],
      ],
      source: ORDERS,
    },
  },
];

const DIALECTS = ["bigquery", "snowflake", "clickhouse", "redshift"] as const;
const CLICKHOUSE_REFUSES = new Set(["scd_type_1", "scd_type_2", "scd_type_2_new"]);

async function emit(dialect: (typeof DIALECTS)[number], c: Case): Promise<string> {
  const session = new CatalogSession(dialect, c.state);
  const result = await materialize(c.spec, session, { now: NOW, runId: "run-42", locks: new TargetLocks() });
  expect(result.statements).toEqual(session.statements);
  return result.statements.map((s) => `${s};\n`).join("\n");
}

describe.each(DIALECTS)("%s emits", (dialect) => {
  for (const c of CASES) {
    if (dialect === "clickhouse" && CLICKHOUSE_REFUSES.has(c.name)) {
      it(`${c.name}: refused with TAU_E_MATERIALIZE_UNSUPPORTED (no UPDATE … FROM, no multi-statement transactions)`, async () => {
        await expect(emit(dialect, c)).rejects.toMatchObject({ code: "TAU_E_MATERIALIZE_UNSUPPORTED", details: { dialect: "clickhouse" } });
      });
      continue;
    }
    it(`${c.name} as in golden/${dialect}/${c.name}.sql`, async () => {
      await expect(await emit(dialect, c)).toMatchFileSnapshot(`golden/${dialect}/${c.name}.sql`);
    });
  }
});

describe("native idioms", () => {
  const byName = (n: string): Case => CASES.find((c) => c.name === n)!;

  it("bigquery partitions by DATE(timestamp), clusters, expires partitions, and hashes with TO_HEX(MD5())", async () => {
    const created = await emit("bigquery", byName("partitioned_create"));
    expect(created).toContain("PARTITION BY DATE(`updated_at`)\nCLUSTER BY `customer_id`, `kind`\nOPTIONS (partition_expiration_days = 90)");
    expect(await emit("bigquery", byName("partitioned_month_load"))).toContain("TIMESTAMP_TRUNC(tau_t.`updated_at`, MONTH)");
    expect(await emit("bigquery", byName("scd_type_2"))).toContain("TO_HEX(MD5(CONCAT(");
    expect(await emit("bigquery", byName("incremental_merge"))).toMatch(/^MERGE INTO `analytics`\.`orders` AS tau_t$/m);
    expect(await emit("bigquery", byName("full_refresh_replace"))).toContain("CREATE OR REPLACE TABLE `analytics`.`orders` AS");
  });

  it("bigquery refuses range partitions, whose bounds the config does not carry", async () => {
    const c = byName("partitioned_create");
    await expect(emit("bigquery", { ...c, spec: { ...(c.spec as ReturnType<typeof partitioned>), partitionType: "range", partitionBy: "id" } })).rejects.toMatchObject({
      code: "TAU_E_MATERIALIZE_UNSUPPORTED",
    });
  });

  it("snowflake clusters by DATE_TRUNC, compares with EQUAL_NULL, hashes with MD5 and upper-cases unquoted names", async () => {
    expect(await emit("snowflake", byName("partitioned_create"))).toContain('CLUSTER BY (DATE_TRUNC(\'DAY\', "UPDATED_AT"), "CUSTOMER_ID", "KIND")');
    const scd = await emit("snowflake", byName("scd_type_2"));
    expect(scd).toContain('EQUAL_NULL(tau_t."ID", tau_s."ID")');
    expect(scd).toContain("MD5(CONCAT(");
    expect(scd).toMatch(/^BEGIN;$/m);
  });

  it("clickhouse builds MergeTree() tables with PARTITION BY, ORDER BY, TTL, swaps with EXCHANGE TABLES and hashes with toString/concat", async () => {
    const created = await emit("clickhouse", byName("partitioned_create"));
    expect(created).toContain("ENGINE = MergeTree()\nPARTITION BY toDate(`updated_at`)\nORDER BY (`customer_id`, `kind`)\nTTL toDateTime(`updated_at`) + INTERVAL 90 DAY");
    expect(await emit("clickhouse", byName("full_refresh_replace"))).toContain("EXCHANGE TABLES");
    const append = await emit("clickhouse", byName("append_only"));
    expect(append).toContain("INSERT INTO `raw`.`api_logs`");
    expect(await emit("clickhouse", byName("partitioned_month_load"))).toContain("toStartOfMonth(`updated_at`)");
  });

  it("redshift sorts by the partition and cluster columns and merges by NULL-safe delete + insert in one transaction", async () => {
    expect(await emit("redshift", byName("partitioned_create"))).toContain('SORTKEY ("updated_at", "customer_id", "kind")');
    const merged = await emit("redshift", byName("incremental_merge"));
    expect(merged).not.toContain("MERGE");
    expect(merged).toMatch(/^BEGIN;[\s\S]*DELETE FROM "analytics"\."orders"[\s\S]*COMMIT;\n$/);
  });
});
