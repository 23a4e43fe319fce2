/**
 * The config classes of `tau/materializations`: the seed's names and fields, in camelCase. Each validates
 * its options on construction (`validateSpec`), so a wrong field throws TAU_E_MATERIALIZE_CONFIG at the line
 * of the pipeline file that built it, and keeps the validated spec — the only thing `ctx.materialize` sends.
 */
import { ObjectDefineProperty, ObjectFreeze, ObjectGetPrototypeOf, ObjectKeys, ArrayIsArray, arrayPush, safeMap, safeWeakMap } from "../primordials";
import { configError, shown } from "./fields";
import type {
  FullRefreshConfigOptions,
  IncrementalConfigOptions,
  MaterializationConfigOptions,
  MaterializationType,
  PartitionedConfigOptions,
  SCDType1ConfigOptions,
  SCDType2ConfigOptions,
  SnapshotConfigOptions,
} from "./options";
import type { IncrementalStrategy, MaterializationSpec, OnSchemaChange, PartitionGranularity, PartitionType, Strategy } from "./spec";
import { CONFIG_CLASS, validateSpec } from "./validate";

/** Genuine configs → their validated spec (what ctx.materialize sends; a look-alike object is re-validated). */
const specs = safeWeakMap<object, MaterializationSpec>();
/** Each SDK class → the strategy it fixes (null: MaterializationConfig, whose options name it). */
const fixedStrategies = safeMap<unknown, Strategy | null>();

function frozenCopy(value: unknown): unknown {
  if (!ArrayIsArray(value)) return value;
  const copy: unknown[] = [];
  for (let i = 0; i < value.length; i++) arrayPush(copy, value[i]);
  return ObjectFreeze(copy);
}

/** A fresh JSON-shaped copy of a spec (arrays copied), so what the pipeline holds cannot reach the one kept. */
function specCopy(spec: MaterializationSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = ObjectKeys(spec);
  for (let i = 0; i < keys.length; i++) {
    const v = (spec as unknown as Record<string, unknown>)[keys[i]!];
    out[keys[i]!] = ArrayIsArray(v) ? frozenCopy(v) : v;
  }
  return out;
}

function buildSpec(target: unknown, options: unknown): MaterializationSpec {
  let fixed: Strategy | null | undefined;
  for (let c: unknown = target; c !== null && c !== undefined && fixed === undefined; c = ObjectGetPrototypeOf(c)) fixed = fixedStrategies.get(c);
  const className = fixed === undefined || fixed === null ? "MaterializationConfig" : CONFIG_CLASS[fixed];
  if (typeof options !== "object" || options === null || ArrayIsArray(options)) {
    throw configError({ config: className }, "options", `must be an object, got ${shown(options)}.`, `Pass the options as an object, e.g. new ${className}({ targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders" }).`);
  }
  const input: Record<string, unknown> = {};
  for (const key in options) input[key] = (options as Record<string, unknown>)[key];
  if (fixed !== undefined && fixed !== null) {
    if (input.strategy !== undefined && input.strategy !== fixed) {
      throw configError({ config: className }, "strategy", `is fixed to "${fixed}" for ${className}; got ${shown(input.strategy)}.`, `Remove strategy, or use the config class for that strategy (MaterializationConfig takes "append_only", "view" and "full_refresh").`);
    }
    input.strategy = fixed;
  } else if (input.strategy !== "append_only" && input.strategy !== "view" && input.strategy !== "full_refresh") {
    const s = input.strategy as Strategy;
    const other = typeof s === "string" && CONFIG_CLASS[s] !== undefined && CONFIG_CLASS[s] !== "MaterializationConfig" ? ` For "${s}" use new ${CONFIG_CLASS[s]}({ … }).` : "";
    throw configError({ config: className }, "strategy", `must be MaterializationType.APPEND_ONLY, MaterializationType.VIEW or MaterializationType.FULL_REFRESH; got ${shown(s)}.${other}`, 'Pass strategy: MaterializationType.APPEND_ONLY (or "append_only"), MaterializationType.VIEW (or "view").');
  }
  return validateSpec(input, className);
}

/**
 * The base config (the seed's `MaterializationConfig`): used directly for the strategies that need no more
 * than a target and a query — `MaterializationType.APPEND_ONLY` (insert the query's rows) and
 * `MaterializationType.VIEW` (create or replace a view) — and the parent of every other config class.
 * Fields are read-only; invalid options throw TAU_E_MATERIALIZE_CONFIG naming the field.
 *
 * @example
 * ```ts
 * import { MaterializationConfig, MaterializationType } from "tau/materializations";
 *
 * const logs = new MaterializationConfig({ targetTable: "raw.api_logs", sourceQuery: "SELECT * FROM staging.buffer",
 *   strategy: MaterializationType.APPEND_ONLY });
 * const view = new MaterializationConfig({ targetTable: "reporting.v_active_users",
 *   sourceQuery: "SELECT * FROM app.users WHERE active", strategy: MaterializationType.VIEW });
 * ```
 */
export class MaterializationConfig {
  declare readonly strategy: MaterializationType;
  declare readonly targetTable: string;
  declare readonly sourceQuery: string;
  declare readonly preHook: readonly string[];
  declare readonly postHook: readonly string[];

  constructor(options: MaterializationConfigOptions) {
    const spec = buildSpec(new.target, options);
    specs.set(this, spec);
    const copy = specCopy(spec);
    const keys = ObjectKeys(copy);
    for (let i = 0; i < keys.length; i++) {
      ObjectDefineProperty(this, keys[i]!, { value: copy[keys[i]!], enumerable: true, writable: false, configurable: false });
    }
  }

  /** The validated spec as plain JSON (what `ctx.materialize` sends to the engine). */
  toJSON(): Record<string, unknown> {
    const spec = specs.get(this);
    return spec === undefined ? {} : specCopy(spec);
  }
}

/**
 * Rebuilds the table from `sourceQuery` on every run: built into a new relation and swapped in, so readers
 * never see an empty table. `preHook`/`postHook` run around it.
 *
 * @example
 * ```ts
 * new FullRefreshConfig({ targetTable: "analytics.dim_products", sourceQuery: "SELECT * FROM raw.products",
 *   preHook: "DROP INDEX IF EXISTS idx_sku", postHook: "CREATE INDEX idx_sku ON analytics.dim_products (sku)" });
 * ```
 */
export class FullRefreshConfig extends MaterializationConfig {
  declare readonly strategy: "full_refresh";

  constructor(options: FullRefreshConfigOptions) {
    super(options as MaterializationConfigOptions);
  }
}

/**
 * Adds and updates rows instead of rebuilding: `merge` (default; needs `uniqueKey`), `delete+insert`,
 * `insert_overwrite` (needs `partitionBy`) or `append`. `incrementalColumn` takes only source rows newer than
 * the target's maximum; `onSchemaChange` says what a new or dropped source column does.
 *
 * @example
 * ```ts
 * new IncrementalConfig({ targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders",
 *   uniqueKey: "order_id", incrementalColumn: "updated_at", incrementalStrategy: "merge",
 *   onSchemaChange: "append_new_columns" });
 * ```
 */
export class IncrementalConfig extends MaterializationConfig {
  declare readonly strategy: "incremental";
  declare readonly incrementalStrategy: IncrementalStrategy;
  /** Always a list (a single name is normalised), or null. */
  declare readonly uniqueKey: readonly string[] | null;
  declare readonly incrementalColumn: string | null;
  declare readonly onSchemaChange: OnSchemaChange;
  declare readonly partitionBy: string | null;

  constructor(options: IncrementalConfigOptions) {
    super(options as unknown as MaterializationConfigOptions);
  }
}

/**
 * A partition-aware incremental table: `partitionBy` with `partitionType` date|range|list and
 * `partitionGranularity` hour|day|month|year, `clusterBy`, and `partitionExpirationDays` (older date
 * partitions are deleted).
 *
 * @example
 * ```ts
 * new PartitionedConfig({ targetTable: "analytics.events", sourceQuery: "SELECT * FROM raw.events",
 *   uniqueKey: "event_id", partitionBy: "event_date", partitionGranularity: "day",
 *   clusterBy: ["user_id", "event_type"], incrementalColumn: "created_at", partitionExpirationDays: 90 });
 * ```
 */
export class PartitionedConfig extends MaterializationConfig {
  declare readonly strategy: "partitioned";
  declare readonly partitionBy: string;
  declare readonly partitionType: PartitionType;
  declare readonly partitionGranularity: PartitionGranularity;
  declare readonly clusterBy: readonly string[];
  declare readonly partitionExpirationDays: number | null;
  declare readonly uniqueKey: readonly string[] | null;
  declare readonly incrementalColumn: string | null;

  constructor(options: PartitionedConfigOptions) {
    super(options as unknown as MaterializationConfigOptions);
  }
}

/**
 * Slowly changing dimension, type 1: rows matched on `uniqueKey` are updated in place when a tracked column
 * changed (`updatedAtColumn` is set only then); new keys are inserted.
 *
 * @example
 * ```ts
 * new SCDType1Config({ targetTable: "analytics.dim_products", sourceQuery: "SELECT * FROM raw.products",
 *   uniqueKey: "product_id", trackedColumns: ["name", "price", "category"], updatedAtColumn: "updated_at" });
 * ```
 */
export class SCDType1Config extends MaterializationConfig {
  declare readonly strategy: "scd_type_1";
  declare readonly uniqueKey: readonly string[];
  declare readonly trackedColumns: readonly string[];
  declare readonly updatedAtColumn: string | null;

  constructor(options: SCDType1ConfigOptions) {
    super(options as unknown as MaterializationConfigOptions);
  }
}

/**
 * Slowly changing dimension, type 2: every change of a tracked column closes the current row
 * (`validToColumn`, `isCurrentColumn` false) and inserts a new version; at most one current row per key.
 * `invalidateHardDeletes` closes keys that vanished from the source. A key repeated in the source is an
 * error, never corrupt history.
 *
 * @example
 * ```ts
 * new SCDType2Config({ targetTable: "analytics.dim_customers",
 *   sourceQuery: "SELECT customer_id, name, tier FROM raw.customers", uniqueKey: "customer_id",
 *   trackedColumns: ["name", "tier"], validFromColumn: "valid_from", validToColumn: "valid_to",
 *   isCurrentColumn: "is_current", hashColumn: "row_hash", invalidateHardDeletes: true });
 * ```
 */
export class SCDType2Config extends MaterializationConfig {
  declare readonly strategy: "scd_type_2";
  declare readonly uniqueKey: readonly string[];
  declare readonly trackedColumns: readonly string[];
  declare readonly validFromColumn: string;
  declare readonly validToColumn: string;
  declare readonly isCurrentColumn: string;
  declare readonly hashColumn: string;
  declare readonly invalidateHardDeletes: boolean;
  declare readonly updatedAtColumn: string | null;

  constructor(options: SCDType2ConfigOptions) {
    super(options as unknown as MaterializationConfigOptions);
  }
}

/**
 * Point-in-time copies: each run appends the query's rows stamped with `snapshotTimestampColumn` and
 * `snapshotIdColumn`; `retainSnapshots` prunes the oldest copies.
 *
 * @example
 * ```ts
 * new SnapshotConfig({ targetTable: "analytics.balance_snapshots", sourceQuery: "SELECT * FROM raw.accounts",
 *   snapshotTimestampColumn: "snapshot_at", snapshotIdColumn: "snapshot_id", retainSnapshots: 30 });
 * ```
 */
export class SnapshotConfig extends MaterializationConfig {
  declare readonly strategy: "snapshot";
  declare readonly snapshotTimestampColumn: string;
  declare readonly snapshotIdColumn: string;
  declare readonly retainSnapshots: number | null;

  constructor(options: SnapshotConfigOptions) {
    super(options as unknown as MaterializationConfigOptions);
  }
}

fixedStrategies.set(MaterializationConfig, null);
fixedStrategies.set(FullRefreshConfig, "full_refresh");
fixedStrategies.set(IncrementalConfig, "incremental");
fixedStrategies.set(PartitionedConfig, "partitioned");
fixedStrategies.set(SCDType1Config, "scd_type_1");
fixedStrategies.set(SCDType2Config, "scd_type_2");
fixedStrategies.set(SnapshotConfig, "snapshot");

const classes = [MaterializationConfig, FullRefreshConfig, IncrementalConfig, PartitionedConfig, SCDType1Config, SCDType2Config, SnapshotConfig];
for (let i = 0; i < classes.length; i++) {
  ObjectFreeze(classes[i]!.prototype);
  ObjectFreeze(classes[i]!);
}

/**
 * The validated spec of a config: the one kept by a genuine config, else the value validated now (a plain
 * object with a `strategy`, for pipelines written without the classes). Throws TAU_E_MATERIALIZE_CONFIG.
 */
export function specOf(config: unknown): MaterializationSpec {
  const kept = typeof config === "object" && config !== null ? specs.get(config) : undefined;
  return kept ?? validateSpec(config, "ctx.materialize config");
}
