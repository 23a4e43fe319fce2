/**
 * `validateSpec`: turns untrusted JSON (a config's options in the guest, the bytes the bridge received on the
 * host) into a `MaterializationSpec` with every default filled in, or throws TAU_E_MATERIALIZE_CONFIG naming
 * the field. Pure: the same function runs in the isolate (the config classes) and in the executor (the
 * `materialize` bridge operation), so the two can never disagree.
 */
import { ArrayIsArray, ObjectGetPrototypeOf, ObjectHasOwn, ObjectPrototype, arrayPush } from "../primordials";
import {
  CLUSTER_COLUMNS_MAX,
  COLUMN_LIST_MAX,
  KEY_COLUMNS_MAX,
  SOURCE_QUERY_MAX,
  column,
  columnList,
  columnOr,
  configError,
  distinctColumns,
  flag,
  hooks,
  oneOf,
  optionalColumn,
  positiveInteger,
  shown,
  sqlText,
  tableName,
  type Where,
} from "./fields";
import type {
  Dialect,
  IncrementalStrategy,
  MaterializationSpec,
  OnSchemaChange,
  PartitionGranularity,
  PartitionType,
  Strategy,
} from "./spec";

export const STRATEGIES: readonly Strategy[] = [
  "full_refresh",
  "incremental",
  "partitioned",
  "scd_type_1",
  "scd_type_2",
  "snapshot",
  "append_only",
  "view",
];
export const INCREMENTAL_STRATEGIES: readonly IncrementalStrategy[] = ["merge", "delete+insert", "insert_overwrite", "append"];
export const ON_SCHEMA_CHANGE: readonly OnSchemaChange[] = ["ignore", "fail", "append_new_columns", "sync_all_columns"];
export const PARTITION_TYPES: readonly PartitionType[] = ["date", "range", "list"];
export const PARTITION_GRANULARITIES: readonly PartitionGranularity[] = ["hour", "day", "month", "year"];
export const DIALECTS: readonly Dialect[] = ["postgres", "duckdb", "mysql", "redshift", "bigquery", "snowflake", "clickhouse"];

const COMMON_FIELDS = ["targetTable", "sourceQuery", "preHook", "postHook"] as const;

/** The fields each strategy takes besides `strategy` and the common ones. */
export const STRATEGY_FIELDS: Readonly<Record<Strategy, readonly string[]>> = {
  full_refresh: [],
  incremental: ["incrementalStrategy", "uniqueKey", "incrementalColumn", "onSchemaChange", "partitionBy"],
  partitioned: ["partitionBy", "partitionType", "partitionGranularity", "clusterBy", "partitionExpirationDays", "uniqueKey", "incrementalColumn"],
  scd_type_1: ["uniqueKey", "trackedColumns", "updatedAtColumn"],
  scd_type_2: [
    "uniqueKey",
    "trackedColumns",
    "validFromColumn",
    "validToColumn",
    "isCurrentColumn",
    "hashColumn",
    "invalidateHardDeletes",
    "updatedAtColumn",
  ],
  snapshot: ["snapshotTimestampColumn", "snapshotIdColumn", "retainSnapshots"],
  append_only: [],
  view: [],
};

/** The config class that builds each strategy (for messages and hints). */
export const CONFIG_CLASS: Readonly<Record<Strategy, string>> = {
  full_refresh: "FullRefreshConfig",
  incremental: "IncrementalConfig",
  partitioned: "PartitionedConfig",
  scd_type_1: "SCDType1Config",
  scd_type_2: "SCDType2Config",
  snapshot: "SnapshotConfig",
  append_only: "MaterializationConfig",
  view: "MaterializationConfig",
};

const MAX_EXPIRATION_DAYS = 36_500;
const MAX_RETAINED_SNAPSHOTS = 1_000_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || ArrayIsArray(value)) return false;
  const proto = ObjectGetPrototypeOf(value);
  return proto === ObjectPrototype || proto === null;
}

function camelFromSnake(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === "_" && i + 1 < name.length && i > 0) {
      const next = name.charCodeAt(i + 1);
      out += next >= 97 && next <= 122 ? String.fromCharCode(next - 32) : name[i + 1];
      i++;
    } else out += c;
  }
  return out;
}

function listText(list: readonly string[]): string {
  let out = "";
  for (let i = 0; i < list.length; i++) out += `${i === 0 ? "" : ", "}${list[i]}`;
  return out;
}

/** Refuses fields the strategy does not take, suggesting the camelCase name for a seed-style snake_case one. */
function refuseUnknown(where: Where, input: Record<string, unknown>, strategy: Strategy): void {
  const allowed: string[] = ["strategy"];
  for (let i = 0; i < COMMON_FIELDS.length; i++) arrayPush(allowed, COMMON_FIELDS[i]!);
  const own = STRATEGY_FIELDS[strategy];
  for (let i = 0; i < own.length; i++) arrayPush(allowed, own[i]!);
  for (const key in input) {
    if (!ObjectHasOwn(input, key)) continue;
    let known = false;
    for (let i = 0; i < allowed.length; i++) if (allowed[i] === key) known = true;
    if (known) continue;
    const camel = camelFromSnake(key);
    let suggestion = "";
    for (let i = 0; i < allowed.length; i++) if (allowed[i] === camel) suggestion = ` Did you mean ${camel}? Fields are camelCase.`;
    let elsewhere = "";
    if (suggestion === "") {
      for (let s = 0; s < STRATEGIES.length; s++) {
        const fields = STRATEGY_FIELDS[STRATEGIES[s]!];
        for (let i = 0; i < fields.length; i++) {
          if (elsewhere === "" && (fields[i] === key || fields[i] === camel)) elsewhere = ` ${fields[i]} belongs to ${CONFIG_CLASS[STRATEGIES[s]!]}.`;
        }
      }
    }
    throw configError(
      where,
      key,
      `is not a field of this config (strategy "${strategy}").${suggestion}${elsewhere}`,
      `The fields are: ${listText(allowed)}.`,
      { allowed },
    );
  }
}

/** Optional field that must be present for some variants; `needed` says why in the message. */
function requiredColumn(where: Where, field: string, value: unknown, needed: string, example: string): string {
  if (value === undefined || value === null) {
    throw configError(where, field, `is required ${needed}.`, `Pass the column, e.g. ${field}: "${example}".`);
  }
  return column(where, field, value);
}

/**
 * Validates a spec (or a config's options plus its strategy) and returns a fresh `MaterializationSpec` with
 * defaults filled in and single names normalised to lists (`uniqueKey: "id"` → `["id"]`). Throws a
 * TAU_E_MATERIALIZE_CONFIG SDK error naming the field; `config` names the class (or "materialization spec").
 *
 * @example
 * ```ts
 * const spec = validateSpec({ strategy: "incremental", targetTable: "analytics.orders",
 *   sourceQuery: "SELECT * FROM raw.orders", uniqueKey: "id" });
 * // spec.incrementalStrategy === "merge", spec.uniqueKey → ["id"], spec.onSchemaChange === "ignore"
 * ```
 */
export function validateSpec(json: unknown, config = "materialization spec"): MaterializationSpec {
  const where: Where = { config };
  if (!isPlainObject(json)) {
    throw configError(where, "config", `must be an object of options, got ${shown(json)}.`, 'Pass the options as an object, e.g. { targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders" }.');
  }
  const input = json;
  const strategy = input.strategy;
  let known = false;
  for (let i = 0; i < STRATEGIES.length; i++) if (strategy === STRATEGIES[i]) known = true;
  if (!known) {
    throw configError(where, "strategy", `must be one of ${listText(STRATEGIES)}; got ${shown(strategy)}.`, "Use a config class from tau/materializations, or MaterializationType.APPEND_ONLY / MaterializationType.VIEW with MaterializationConfig.", {
      allowed: STRATEGIES,
    });
  }
  const s = strategy as Strategy;
  refuseUnknown(where, input, s);

  const targetTable = tableName(where, "targetTable", input.targetTable);
  const sourceQuery = sqlText(where, "sourceQuery", input.sourceQuery, SOURCE_QUERY_MAX, '"SELECT * FROM raw.orders"');
  const preHook = hooks(where, "preHook", input.preHook);
  const postHook = hooks(where, "postHook", input.postHook);
  const common = { targetTable, sourceQuery, preHook, postHook };

  switch (s) {
    case "full_refresh":
    case "append_only":
    case "view":
      return { strategy: s, ...common };
    case "incremental": {
      const incrementalStrategy = oneOf(where, "incrementalStrategy", input.incrementalStrategy, INCREMENTAL_STRATEGIES, "merge");
      const needsKey = incrementalStrategy === "merge" || incrementalStrategy === "delete+insert";
      const uniqueKey = columnList(where, "uniqueKey", input.uniqueKey, KEY_COLUMNS_MAX, needsKey ? `for incrementalStrategy "${incrementalStrategy}" (use incrementalStrategy "append" to add rows without matching them)` : null);
      const partitionBy =
        incrementalStrategy === "insert_overwrite"
          ? requiredColumn(where, "partitionBy", input.partitionBy, 'for incrementalStrategy "insert_overwrite" (the partitions present in the new data are replaced)', "event_date")
          : optionalColumn(where, "partitionBy", input.partitionBy);
      return {
        strategy: s,
        ...common,
        incrementalStrategy,
        uniqueKey,
        incrementalColumn: optionalColumn(where, "incrementalColumn", input.incrementalColumn),
        onSchemaChange: oneOf(where, "onSchemaChange", input.onSchemaChange, ON_SCHEMA_CHANGE, "ignore"),
        partitionBy,
      };
    }
    case "partitioned": {
      const partitionBy = requiredColumn(where, "partitionBy", input.partitionBy, "(the column the table is partitioned on)", "event_date");
      const partitionType = oneOf(where, "partitionType", input.partitionType, PARTITION_TYPES, "date");
      const partitionExpirationDays = positiveInteger(where, "partitionExpirationDays", input.partitionExpirationDays, MAX_EXPIRATION_DAYS, "90");
      if (partitionExpirationDays !== null && partitionType !== "date") {
        throw configError(where, "partitionExpirationDays", `only applies to partitionType "date" (this config's is "${partitionType}").`, 'Remove partitionExpirationDays, or partition by a date column with partitionType: "date".');
      }
      return {
        strategy: s,
        ...common,
        partitionBy,
        partitionType,
        partitionGranularity: oneOf(where, "partitionGranularity", input.partitionGranularity, PARTITION_GRANULARITIES, "day"),
        clusterBy: columnList(where, "clusterBy", input.clusterBy, CLUSTER_COLUMNS_MAX, null, true) ?? [],
        partitionExpirationDays,
        uniqueKey: columnList(where, "uniqueKey", input.uniqueKey, KEY_COLUMNS_MAX, null),
        incrementalColumn: optionalColumn(where, "incrementalColumn", input.incrementalColumn),
      };
    }
    case "scd_type_1": {
      const uniqueKey = columnList(where, "uniqueKey", input.uniqueKey, KEY_COLUMNS_MAX, "for SCD type 1 (rows are matched on it)")!;
      const trackedColumns = columnList(where, "trackedColumns", input.trackedColumns, COLUMN_LIST_MAX, null, true) ?? [];
      const updatedAtColumn = optionalColumn(where, "updatedAtColumn", input.updatedAtColumn);
      distinctColumns(where, [
        ["uniqueKey", uniqueKey],
        ["trackedColumns", trackedColumns],
        ["updatedAtColumn", updatedAtColumn],
      ]);
      return { strategy: s, ...common, uniqueKey, trackedColumns, updatedAtColumn };
    }
    case "scd_type_2": {
      const uniqueKey = columnList(where, "uniqueKey", input.uniqueKey, KEY_COLUMNS_MAX, "for SCD type 2 (versions are kept per key)")!;
      const trackedColumns = columnList(where, "trackedColumns", input.trackedColumns, COLUMN_LIST_MAX, null, true) ?? [];
      const validFromColumn = columnOr(where, "validFromColumn", input.validFromColumn, "valid_from");
      const validToColumn = columnOr(where, "validToColumn", input.validToColumn, "valid_to");
      const isCurrentColumn = columnOr(where, "isCurrentColumn", input.isCurrentColumn, "is_current");
      const hashColumn = columnOr(where, "hashColumn", input.hashColumn, "row_hash");
      const updatedAtColumn = optionalColumn(where, "updatedAtColumn", input.updatedAtColumn);
      distinctColumns(where, [
        ["uniqueKey", uniqueKey],
        ["trackedColumns", trackedColumns],
        ["validFromColumn", validFromColumn],
        ["validToColumn", validToColumn],
        ["isCurrentColumn", isCurrentColumn],
        ["hashColumn", hashColumn],
      ]);
      // updatedAtColumn is a source column: it may be tracked, but not be one of the columns Tau writes.
      distinctColumns(where, [
        ["updatedAtColumn", updatedAtColumn],
        ["uniqueKey", uniqueKey],
        ["validFromColumn", validFromColumn],
        ["validToColumn", validToColumn],
        ["isCurrentColumn", isCurrentColumn],
        ["hashColumn", hashColumn],
      ]);
      return {
        strategy: s,
        ...common,
        uniqueKey,
        trackedColumns,
        validFromColumn,
        validToColumn,
        isCurrentColumn,
        hashColumn,
        invalidateHardDeletes: flag(where, "invalidateHardDeletes", input.invalidateHardDeletes, false),
        updatedAtColumn,
      };
    }
    case "snapshot": {
      const snapshotTimestampColumn = columnOr(where, "snapshotTimestampColumn", input.snapshotTimestampColumn, "snapshot_at");
      const snapshotIdColumn = columnOr(where, "snapshotIdColumn", input.snapshotIdColumn, "snapshot_id");
      distinctColumns(where, [
        ["snapshotTimestampColumn", snapshotTimestampColumn],
        ["snapshotIdColumn", snapshotIdColumn],
      ]);
      return {
        strategy: s,
        ...common,
        snapshotTimestampColumn,
        snapshotIdColumn,
        retainSnapshots: positiveInteger(where, "retainSnapshots", input.retainSnapshots, MAX_RETAINED_SNAPSHOTS, "30"),
      };
    }
  }
  // Unreachable: the strategy was checked above.
  throw configError(where, "strategy", `is not handled: ${shown(strategy)}.`, "");
}
