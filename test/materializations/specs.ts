/** Full specs with the defaults the config classes fill in, so each test states only what it is about. */
import type {
  AppendOnlySpec,
  FullRefreshSpec,
  IncrementalSpec,
  PartitionedSpec,
  ScdType1Spec,
  ScdType2Spec,
  SnapshotSpec,
  ViewSpec,
} from "../../runtime/sdk/materializations/spec";

type Base = { targetTable: string; sourceQuery: string };
const hooks = { preHook: [] as string[], postHook: [] as string[] };

export const fullRefresh = (b: Base & Partial<FullRefreshSpec>): FullRefreshSpec => ({ strategy: "full_refresh", ...hooks, ...b });
export const view = (b: Base & Partial<ViewSpec>): ViewSpec => ({ strategy: "view", ...hooks, ...b });
export const appendOnly = (b: Base & Partial<AppendOnlySpec>): AppendOnlySpec => ({ strategy: "append_only", ...hooks, ...b });
export const incremental = (b: Base & Partial<IncrementalSpec>): IncrementalSpec => ({
  strategy: "incremental",
  incrementalStrategy: "merge",
  uniqueKey: null,
  incrementalColumn: null,
  onSchemaChange: "ignore",
  partitionBy: null,
  ...hooks,
  ...b,
});
export const partitioned = (b: Base & Partial<PartitionedSpec> & { partitionBy: string }): PartitionedSpec => ({
  strategy: "partitioned",
  partitionType: "date",
  partitionGranularity: "day",
  clusterBy: [],
  partitionExpirationDays: null,
  uniqueKey: null,
  incrementalColumn: null,
  ...hooks,
  ...b,
});
export const scd1 = (b: Base & Partial<ScdType1Spec> & { uniqueKey: string[] }): ScdType1Spec => ({
  strategy: "scd_type_1",
  trackedColumns: [],
  updatedAtColumn: null,
  ...hooks,
  ...b,
});
export const scd2 = (b: Base & Partial<ScdType2Spec> & { uniqueKey: string[] }): ScdType2Spec => ({
  strategy: "scd_type_2",
  trackedColumns: [],
  validFromColumn: "valid_from",
  validToColumn: "valid_to",
  isCurrentColumn: "is_current",
  hashColumn: "row_hash",
  invalidateHardDeletes: false,
  updatedAtColumn: null,
  ...hooks,
  ...b,
});
export const snapshot = (b: Base & Partial<SnapshotSpec>): SnapshotSpec => ({
  strategy: "snapshot",
  snapshotTimestampColumn: "snapshot_at",
  snapshotIdColumn: "snapshot_id",
  retainSnapshots: null,
  ...hooks,
  ...b,
});

export const T1 = new Date("2026-01-01T00:00:00Z");
export const T2 = new Date("2026-01-02T00:00:00Z");
export const T3 = new Date("2026-01-03T00:00:00Z");
export const T4 = new Date("2026-01-04T00:00:00Z");
