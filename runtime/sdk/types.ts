/**
 * The types a pipeline file sees through `import … from "tau"`.
 */
import type { MaterializationConfig } from "./materializations/configs";
import type { MaterializeOptions } from "./materializations/materialize";
import type { MaterializeResult } from "./materializations/spec";

/**
 * What `pipeline(meta, fn)` declares about a pipeline. The daemon validates it at deploy and reports a bad
 * field as `TAU_E_DEPLOY_META_INVALID` (or `TAU_E_DEPLOY_NAME_INVALID`, `TAU_E_DEPLOY_CRON_INVALID`).
 *
 * @example
 * ```ts
 * export default pipeline(
 *   {
 *     name: "orders_sync",                 // 1–64 chars: a lowercase letter, then [a-z0-9_-]
 *     description: "Orders into the warehouse",
 *     schedule: "0 6 * * *",               // cron: minute hour day month weekday
 *     timezone: "Europe/Berlin",           // the cron is read in this zone (default UTC)
 *     tags: ["warehouse"],
 *     dependsOn: ["stage_customers"],      // runs after these pipelines succeed
 *     timeoutSec: 900,                     // wall-clock limit of one run
 *     retries: 3,                          // retry a run that failed with a retryable error (timeout, connection lost)
 *     retryDelaySec: 30,                   // backoff base: up to 30 s, 60 s, 120 s … (full jitter)
 *     maxConcurrentRuns: 1,                // a second run waits until the first ends (the default)
 *   },
 *   async (ctx) => ({ ok: true }),
 * );
 * ```
 */
export interface PipelineMeta {
  /** Unique name of the pipeline: a lowercase letter first, then lowercase letters, digits, `_` or `-`. */
  name: string;
  /** One line saying what the pipeline does (shown by `tau list` and the dashboard). */
  description?: string;
  /** Cron expression for scheduled runs, e.g. `"0 6 * * *"` (daily at 06:00). Omit for manual runs only. */
  schedule?: string;
  /**
   * IANA time zone the `schedule` is read in, e.g. `"Europe/Berlin"` (default `"UTC"`). DST is handled: a
   * time that does not exist on the spring-forward day fires at the first valid time after it, a time that
   * happens twice on the fall-back day fires once.
   */
  timezone?: string;
  /** Free labels for filtering, e.g. `["warehouse", "daily"]`. */
  tags?: string[];
  /** Pipelines that must succeed before this one runs in a DAG. */
  dependsOn?: string[];
  /** Wall-clock limit of one run in seconds (capped by the tenant's policy). A run that passes it fails with TAU_E_RUN_TIMEOUT. */
  timeoutSec?: number;
  /**
   * How many times a failed run is retried (default 0, at most 100). Only errors marked retryable are
   * retried (TAU_E_RUN_TIMEOUT, TAU_E_CONNECTOR_UNREACHABLE, TAU_E_CONNECTOR_TIMEOUT, TAU_E_SANDBOX_CRASHED, …;
   * see docs/errors.md) plus the codes in `retryOn`; a syntax error or a cancelled run never is. Each retry
   * is a new run with `attempt` 2, 3, … and `retryOf` naming the attempt before it.
   */
  retries?: number;
  /**
   * Base of the exponential backoff between attempts, in seconds (default 10). Before attempt n+1 the run
   * waits a random time between 0 and `retryDelaySec × 2^(n-1)` (full jitter), capped at one hour.
   */
  retryDelaySec?: number;
  /** Error codes retried besides the retryable ones, e.g. `["TAU_E_PIPELINE_ERROR"]` for a flaky source that throws. */
  retryOn?: string[];
  /** Runs of this pipeline that may execute at once (default 1: a second run waits for the first). */
  maxConcurrentRuns?: number;
}

/**
 * Run parameters: the JSON object given with `tau run NAME --params '{…}'`.
 *
 * @example
 * ```ts
 * // tau run daily --params '{"day": "2026-01-31"}'
 * export default pipeline<{ day?: string }>({ name: "daily" }, async (ctx) => ctx.params.day ?? "today");
 * ```
 */
export type Params = Record<string, unknown>;

/**
 * Structured fields attached to a log line; any JSON-serialisable object (Error values are written as
 * `{name, message}`, BigInts as strings).
 *
 * @example
 * ```ts
 * ctx.log("loaded", { table: "staging_orders", rows: 120, tookMs: 85 });
 * ```
 */
export type LogFields = Record<string, unknown>;

/**
 * Writes a log line to the run's log (`tau logs NAME`). Calling it directly logs at `info`; the methods
 * log at their level. Secret values are scrubbed from every line before it is stored.
 *
 * @example
 * ```ts
 * ctx.log("starting", { day: ctx.params.day });
 * ctx.log.debug("query built", { sql });
 * ctx.log.warn("source returned no rows");
 * ctx.log.error("giving up", { attempts: 3 });
 * ```
 */
export interface LogFn {
  (message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * A named unit of work inside a run. Its status, timings, row counts and meta appear in `tau inspect`
 * and the dashboard. Get one from `ctx.step(name, async (step) => …)` or `await using step = ctx.step(name)`.
 *
 * @example
 * ```ts
 * const rows = await ctx.step("extract", async (step) => {
 *   const data = await db.extract("SELECT * FROM raw.orders");
 *   step.rowsOut = data.length;
 *   step.meta = { source: "raw.orders" };
 *   step.log("extracted", { rows: data.length });
 *   return data;
 * });
 * ```
 */
export interface Step extends AsyncDisposable, Disposable {
  /** The name given to ctx.step. */
  readonly name: string;
  /** Rows the step consumed; a non-negative integer or null (unknown). */
  rowsIn: number | null;
  /** Rows the step produced; a non-negative integer or null (unknown). */
  rowsOut: number | null;
  /** Free JSON object stored with the step, e.g. `{ table: "staging.orders" }`. */
  meta: Record<string, unknown>;
  /** Logs a line tagged with this step (same levels as ctx.log). */
  readonly log: LogFn;
}

/**
 * What a pipeline's function receives for one run.
 *
 * @example
 * ```ts
 * export default pipeline<{ day?: string }>({ name: "daily" }, async (ctx) => {
 *   const day = ctx.params.day ?? new Date().toISOString().slice(0, 10);
 *   ctx.log("run", { runId: ctx.runId, pipeline: ctx.pipeline, since: ctx.lastSuccessfulRun });
 *   return { day };
 * });
 * ```
 */
export interface PipelineContext<P extends Params = Params> {
  /** This run's id (as shown by `tau runs`). */
  readonly runId: string;
  /** The pipeline's name. */
  readonly pipeline: string;
  /** The run's parameters (`tau run NAME --params '{…}'`), deep-frozen; `{}` when none were given. */
  readonly params: Readonly<P>;
  /** When this pipeline last finished a run successfully, or null if it never has. */
  readonly lastSuccessfulRun: Date | null;
  /** Writes to the run's log; see {@link LogFn}. */
  readonly log: LogFn;
  /**
   * Runs `fn` as a step named `name` and resolves to what `fn` returns. The step is `failed` if `fn`
   * throws (the error is rethrown, and a run that fails on it names this step in `error.step`), otherwise
   * `succeeded`. Steps may nest, and may run concurrently (`Promise.all`). Prefer this form when the step
   * can fail: it knows exactly which error ended it.
   *
   * @example
   * ```ts
   * const count = await ctx.step("load", async (step) => {
   *   step.rowsIn = rows.length;
   *   return await db.load(rows, { table: "staging_orders" });
   * });
   * ```
   */
  step<T>(name: string, fn: (step: Step) => Promise<T> | T): Promise<T>;
  /**
   * Starts a step that ends when it is disposed: use it with `await using`, in a block that spans the
   * step's work. Because disposal cannot see an error in flight, the step's end is reported at the next
   * SDK call (`succeeded`) or at the run's end (`failed` if the run failed while it was the innermost
   * step); the callback form above is exact.
   *
   * @example
   * ```ts
   * {
   *   await using load = ctx.step("load");
   *   load.rowsIn = rows.length;
   *   await db.load(rows, { table: "staging_orders" });
   * } // the step ends here
   * ```
   */
  step(name: string): Step;
  /**
   * Returns a marker for the secret `name` — the string `{{tau.secret:NAME}}` — after checking on the
   * host that the secret exists and the tenant's policy allows it (otherwise throws a TauSdkError such as
   * `TAU_E_SECRET_NOT_FOUND` or `TAU_E_POLICY_DENIED`). The secret's value never enters the sandbox: pass
   * the marker (alone or inside a longer string) in connector options, and the host substitutes the value
   * when it opens the connector. Values are also scrubbed from logs, errors and results. In local mode
   * secrets are read from taud's environment.
   *
   * @example
   * ```ts
   * const file = ctx.secret("WAREHOUSE_FILE");      // "{{tau.secret:WAREHOUSE_FILE}}"
   * await using db = duckdb_local(file);            // opened with the real path, on the host
   * ```
   */
  secret(name: string): string;
  /**
   * Builds `config.targetTable` from `config.sourceQuery` on the connector's database with the config's
   * strategy (a class from `tau/materializations`), run on the host by Tau's engine in the dialect of the
   * connector (or `options.dialect`). Traced as the step `materialize:<targetTable>`: its rowsOut is
   * `rowsAffected` and its meta holds the statements run (`tau inspect NAME --last-run`). Resolves with
   * `{strategy, targetTable, rowsAffected, statements, durationMs}`; throws a TauSdkError
   * (TAU_E_MATERIALIZE_CONFIG for a bad config or a dialect the connector does not speak, the connector's
   * codes for SQL errors).
   *
   * @example
   * ```ts
   * import { IncrementalConfig } from "tau/materializations";
   *
   * await using db = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });
   * const result = await ctx.materialize(
   *   new IncrementalConfig({ targetTable: "analytics.orders", sourceQuery: "SELECT * FROM staging.orders",
   *     uniqueKey: "id", incrementalColumn: "updated_at" }),
   *   { connector: db, dialect: "postgres" },
   * );
   * ctx.log("orders merged", { rows: result.rowsAffected });
   * ```
   */
  materialize(config: MaterializationConfig, options: MaterializeOptions): Promise<MaterializeResult>;
}

/**
 * A pipeline's function: receives the run's context, returns the run's result (any JSON value; undefined
 * is stored as null). `tau inspect NAME --last-run` shows it as `result`.
 *
 * @example
 * ```ts
 * const run: PipelineFn = async (ctx) => ({ ranAt: new Date().toISOString(), runId: ctx.runId });
 * export default pipeline({ name: "stamp" }, run);
 * ```
 */
export type PipelineFn<P extends Params = Params> = (ctx: PipelineContext<P>) => unknown;

/**
 * What `pipeline()` returns; the pipeline file must `export default` it. Tau checks the default export
 * is a genuine definition made by `pipeline()` (otherwise deploy fails with TAU_E_DEPLOY_NO_PIPELINE).
 *
 * @example
 * ```ts
 * const definition: PipelineDefinition = pipeline({ name: "orders" }, async () => null);
 * export default definition; // definition.meta.name === "orders"
 * ```
 */
export interface PipelineDefinition {
  /** The meta as declared (a frozen copy). */
  readonly meta: Readonly<PipelineMeta>;
}
