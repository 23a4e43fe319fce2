/**
 * The options each config class of `tau/materializations` takes (the seed's fields, in camelCase), and the
 * `MaterializationType` enum. Types only, apart from the frozen enum object.
 */
import { ObjectFreeze } from "../primordials";
import type { OnSchemaChange, PartitionGranularity, PartitionType } from "./spec";

/**
 * Every materialization strategy, for `MaterializationConfig`'s `strategy` (the seed's enum). The values are
 * the strategy names as plain strings, so `"view"` and `MaterializationType.VIEW` are interchangeable.
 *
 * @example
 * ```ts
 * new MaterializationConfig({ targetTable: "reporting.v_active_users",
 *   sourceQuery: "SELECT * FROM app.users WHERE active", strategy: MaterializationType.VIEW });
 * ```
 */
export const MaterializationType = ObjectFreeze({
  FULL_REFRESH: "full_refresh",
  INCREMENTAL: "incremental",
  PARTITIONED: "partitioned",
  SCD_TYPE_1: "scd_type_1",
  SCD_TYPE_2: "scd_type_2",
  SNAPSHOT: "snapshot",
  APPEND_ONLY: "append_only",
  VIEW: "view",
} as const);
export type MaterializationType = (typeof MaterializationType)[keyof typeof MaterializationType];

/** One column, or several (a composite key). */
export type ColumnList = string | readonly string[];

/**
 * Fields every config takes.
 *
 * @example
 * ```ts
 * const common: CommonConfigOptions = { targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders",
 *   postHook: "CREATE INDEX IF NOT EXISTS orders_day ON analytics.orders (day)" };
 * ```
 */
export interface CommonConfigOptions {
  /** The relation built: `"schema.table"` or `"table"` (letters, digits, `_`; quoted by each dialect). */
  targetTable: string;
  /** The SELECT whose result is the new data, run as written on the connector's database. */
  sourceQuery: string;
  /** Statements run before the strategy's own, in the same session. */
  preHook?: string | readonly string[];
  /** Statements run after the strategy's own, in the same session (e.g. CREATE INDEX). */
  postHook?: string | readonly string[];
}

/**
 * `MaterializationConfig`'s options: the common fields and one of the strategies that need nothing more.
 *
 * @example
 * ```ts
 * const opts: MaterializationConfigOptions = { targetTable: "raw.api_logs", sourceQuery: "SELECT * FROM staging.buffer",
 *   strategy: MaterializationType.APPEND_ONLY };
 * ```
 */
export interface MaterializationConfigOptions extends CommonConfigOptions {
  /** `"append_only"` (insert the rows), `"view"` (create or replace a view) or `"full_refresh"`. */
  strategy: "append_only" | "view" | "full_refresh";
}

/**
 * `FullRefreshConfig`'s options: the common fields.
 *
 * @example
 * ```ts
 * const opts: FullRefreshConfigOptions = { targetTable: "analytics.dim_products", sourceQuery: "SELECT * FROM raw.products" };
 * ```
 */
export type FullRefreshConfigOptions = CommonConfigOptions;

interface IncrementalCommon extends CommonConfigOptions {
  /** Only source rows whose value in this column is greater than the target's maximum are taken. */
  incrementalColumn?: string;
  /** What to do when the source has columns the target lacks (or lacks some it has). Default `"ignore"`. */
  onSchemaChange?: OnSchemaChange;
}

/**
 * `IncrementalConfig`'s options. `incrementalStrategy` (default `"merge"`): `"merge"` updates matched rows
 * and inserts the others; `"delete+insert"` deletes the target rows whose key is in the new data, then
 * inserts (tolerates non-unique keys); both need `uniqueKey`. `"insert_overwrite"` replaces the partitions
 * (values of `partitionBy`) present in the new data; `"append"` inserts without matching.
 *
 * @example
 * ```ts
 * const merge: IncrementalConfigOptions = { targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders",
 *   uniqueKey: "order_id", incrementalColumn: "updated_at", onSchemaChange: "append_new_columns" };
 * const overwrite: IncrementalConfigOptions = { targetTable: "analytics.events", sourceQuery: "SELECT * FROM raw.events",
 *   incrementalStrategy: "insert_overwrite", partitionBy: "event_date" };
 * ```
 */
export type IncrementalConfigOptions = IncrementalCommon &
  (
    | { incrementalStrategy?: "merge" | "delete+insert"; uniqueKey: ColumnList; partitionBy?: string }
    | { incrementalStrategy: "insert_overwrite"; partitionBy: string; uniqueKey?: ColumnList }
    | { incrementalStrategy: "append"; uniqueKey?: ColumnList; partitionBy?: string }
  );

/**
 * `PartitionedConfig`'s options.
 *
 * @example
 * ```ts
 * const opts: PartitionedConfigOptions = { targetTable: "analytics.events", sourceQuery: "SELECT * FROM raw.events",
 *   uniqueKey: "event_id", partitionBy: "event_date", partitionType: "date", partitionGranularity: "day",
 *   clusterBy: ["user_id", "event_type"], incrementalColumn: "created_at", partitionExpirationDays: 90 };
 * ```
 */
export interface PartitionedConfigOptions extends CommonConfigOptions {
  /** The column the table is partitioned on. */
  partitionBy: string;
  /** `"date"` (default), `"range"` or `"list"`. */
  partitionType?: PartitionType;
  /** For date partitions: `"hour"`, `"day"` (default), `"month"` or `"year"`. */
  partitionGranularity?: PartitionGranularity;
  /** Clustering columns (BigQuery, Snowflake; ClickHouse's ORDER BY). */
  clusterBy?: ColumnList;
  /** Date partitions older than this many days are deleted after each load. */
  partitionExpirationDays?: number;
  /** Rows of the new data replace target rows with the same key. */
  uniqueKey?: ColumnList;
  /** Only source rows newer than the target's maximum of this column are taken. */
  incrementalColumn?: string;
}

/**
 * `SCDType1Config`'s options: overwrite changed values in place.
 *
 * @example
 * ```ts
 * const opts: SCDType1ConfigOptions = { targetTable: "analytics.dim_products", sourceQuery: "SELECT * FROM raw.products",
 *   uniqueKey: "product_id", trackedColumns: ["name", "price", "category"], updatedAtColumn: "updated_at" };
 * ```
 */
export interface SCDType1ConfigOptions extends CommonConfigOptions {
  uniqueKey: ColumnList;
  /** Columns whose change updates the row (default: every non-key column). */
  trackedColumns?: readonly string[];
  /** Set to the run's time only when a tracked value changed. */
  updatedAtColumn?: string;
}

/**
 * `SCDType2Config`'s options: keep every version of a row.
 *
 * @example
 * ```ts
 * const opts: SCDType2ConfigOptions = { targetTable: "analytics.dim_customers",
 *   sourceQuery: "SELECT customer_id, name, tier FROM raw.customers", uniqueKey: "customer_id",
 *   trackedColumns: ["name", "tier"], invalidateHardDeletes: true };
 * ```
 */
export interface SCDType2ConfigOptions extends CommonConfigOptions {
  uniqueKey: ColumnList;
  /** Columns compared to decide a new version (default: every non-key column). NULL↔value counts as a change. */
  trackedColumns?: readonly string[];
  /** Default `"valid_from"`. */
  validFromColumn?: string;
  /** Default `"valid_to"` (NULL on the current row). */
  validToColumn?: string;
  /** Default `"is_current"`. */
  isCurrentColumn?: string;
  /** Default `"row_hash"`: a hash of the tracked columns. */
  hashColumn?: string;
  /** Close the current row of keys that vanished from the source (default false). */
  invalidateHardDeletes?: boolean;
  /** A source column giving each change's time (dbt's timestamp strategy); default: the run's time. */
  updatedAtColumn?: string;
}

/**
 * `SnapshotConfig`'s options: point-in-time copies.
 *
 * @example
 * ```ts
 * const opts: SnapshotConfigOptions = { targetTable: "analytics.balance_snapshots", sourceQuery: "SELECT * FROM raw.accounts",
 *   snapshotTimestampColumn: "snapshot_at", snapshotIdColumn: "snapshot_id", retainSnapshots: 30 };
 * ```
 */
export interface SnapshotConfigOptions extends CommonConfigOptions {
  /** Default `"snapshot_at"`: when the copy was taken. */
  snapshotTimestampColumn?: string;
  /** Default `"snapshot_id"`: which copy a row belongs to. */
  snapshotIdColumn?: string;
  /** Keep at most this many snapshots, pruning the oldest (default: keep all). */
  retainSnapshots?: number;
}
