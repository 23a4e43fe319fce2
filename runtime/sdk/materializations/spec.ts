/**
 * The contract between the guest's config classes (`tau/materializations`, runtime/sdk/materializations*.ts)
 * and the host-side engine (runtime/materializations/). A config crosses the bridge as the JSON of one
 * `MaterializationSpec`; the host validates it again with `validateSpec` (guest bytes are hostile) before it
 * generates a single statement. Pure TypeScript: no Node imports, so the SDK can share the validation.
 *
 * Field names are the seed's, in camelCase. Identifiers (tables, columns) are validated, never interpolated
 * raw: each dialect quotes them. `sourceQuery` is the author's SQL, run as written (it is their database).
 */

export type Dialect = "postgres" | "duckdb" | "mysql" | "redshift" | "bigquery" | "snowflake" | "clickhouse";

export type Strategy =
  | "full_refresh"
  | "incremental"
  | "partitioned"
  | "scd_type_1"
  | "scd_type_2"
  | "snapshot"
  | "append_only"
  | "view";

export type IncrementalStrategy = "merge" | "delete+insert" | "insert_overwrite" | "append";
export type OnSchemaChange = "ignore" | "fail" | "append_new_columns" | "sync_all_columns";
export type PartitionType = "date" | "range" | "list";
export type PartitionGranularity = "hour" | "day" | "month" | "year";

interface Common {
  /** `schema.table` or `table`; the relation the strategy builds. */
  targetTable: string;
  /** SELECT whose result is the new data. */
  sourceQuery: string;
  /** Statements run before / after the strategy's own, in the same session (dbt's pre_hook/post_hook). */
  preHook: string[];
  postHook: string[];
}

export interface FullRefreshSpec extends Common {
  strategy: "full_refresh";
}

export interface IncrementalSpec extends Common {
  strategy: "incremental";
  incrementalStrategy: IncrementalStrategy;
  /** Columns identifying a row; required by merge/delete+insert when given as a strategy that needs it. */
  uniqueKey: string[] | null;
  /** Only source rows with this column greater than the target's maximum are taken. */
  incrementalColumn: string | null;
  onSchemaChange: OnSchemaChange;
  /** For insert_overwrite: the partition column whose values present in the new data are replaced. */
  partitionBy: string | null;
}

export interface PartitionedSpec extends Common {
  strategy: "partitioned";
  partitionBy: string;
  partitionType: PartitionType;
  partitionGranularity: PartitionGranularity;
  clusterBy: string[];
  /** Partitions older than this many days are deleted after the load (null: keep all). */
  partitionExpirationDays: number | null;
  uniqueKey: string[] | null;
  /** As for incremental: only source rows with this column greater than the target's maximum are taken (the seed's `incremental_column`). */
  incrementalColumn: string | null;
}

export interface ScdType1Spec extends Common {
  strategy: "scd_type_1";
  uniqueKey: string[];
  /** Columns whose change updates the row; empty = every non-key column. */
  trackedColumns: string[];
  /** Set to the run's time only when a tracked value changed (null: no such column). */
  updatedAtColumn: string | null;
}

export interface ScdType2Spec extends Common {
  strategy: "scd_type_2";
  uniqueKey: string[];
  /** Columns compared to decide a new version; empty = every non-key column. */
  trackedColumns: string[];
  validFromColumn: string;
  validToColumn: string;
  isCurrentColumn: string;
  hashColumn: string;
  /** Close the current row of keys that vanished from the source. */
  invalidateHardDeletes: boolean;
  /** Source column giving the change time (dbt's timestamp strategy); null: the run's time (check strategy). */
  updatedAtColumn: string | null;
}

export interface SnapshotSpec extends Common {
  strategy: "snapshot";
  snapshotTimestampColumn: string;
  snapshotIdColumn: string;
  /** Keep at most this many snapshots, pruning the oldest (null: keep all). */
  retainSnapshots: number | null;
}

export interface AppendOnlySpec extends Common {
  strategy: "append_only";
}

export interface ViewSpec extends Common {
  strategy: "view";
}

export type MaterializationSpec =
  | FullRefreshSpec
  | IncrementalSpec
  | PartitionedSpec
  | ScdType1Spec
  | ScdType2Spec
  | SnapshotSpec
  | AppendOnlySpec
  | ViewSpec;

/** What `ctx.materialize` resolves with (and what the step records in its meta). */
export interface MaterializeResult {
  strategy: Strategy;
  targetTable: string;
  rowsAffected: number;
  /** Every statement run, in order, with parameters inlined as the engine sent them (for `tau inspect`). */
  statements: string[];
  durationMs: number;
}

/**
 * The engine's view of a connector: one session on one database, held for the whole materialization so that
 * transactions and session-level locks hold. Implemented on the host over each SQL connector.
 */
export interface SqlSession {
  readonly dialect: Dialect;
  /** Runs one statement; resolves with the rows it returned (empty for DDL/DML) and the rows it changed. */
  execute(sql: string): Promise<{ rows: Record<string, unknown>[]; rowsAffected: number }>;
}
