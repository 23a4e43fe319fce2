/**
 * `pipeline(meta, fn)` and the registry that proves a default export came from it.
 */
import { createSdkError, type TauSdkError } from "./errors";
import { deepFreeze, errorMessage, parseJson, toJson } from "./json";
import { ArrayIsArray, ObjectFreeze, safeWeakMap } from "./primordials";
import type { Params, PipelineDefinition, PipelineFn, PipelineMeta } from "./types";

/** What the runtime keeps about a definition; the pipeline holds only the frozen definition object. */
export interface DefinitionInternals {
  readonly meta: Readonly<PipelineMeta>;
  readonly fn: PipelineFn;
  /** Set when pipeline() was called wrongly; reported by describe() and run() instead of throwing at load. */
  readonly problem: TauSdkError | null;
}

/**
 * Module-private brand: only objects made by pipeline() are keys. A default export that merely looks
 * like a definition is refused (TAU_E_DEPLOY_NO_PIPELINE).
 */
const definitions = safeWeakMap<object, DefinitionInternals>();

function metaProblem(field: string, message: string): TauSdkError {
  return createSdkError("TAU_E_DEPLOY_META_INVALID", message, {
    hint: 'Call pipeline({ name: "my_pipeline", … }, async (ctx) => { … }).',
    details: { field },
  });
}

/**
 * Declares a pipeline. The pipeline file must `export default` what this returns. `meta` says what the
 * pipeline is (name, schedule, …, see {@link PipelineMeta}); `fn` runs once per run with the run's
 * context and returns the run's result (a JSON value).
 *
 * Give the params' type as the type argument to get typed `ctx.params`.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local } from "tau/connectors";
 *
 * export default pipeline<{ minAmount?: number }>(
 *   { name: "big_orders", schedule: "0 6 * * *", tags: ["warehouse"] },
 *   async (ctx) => {
 *     await using db = duckdb_local();
 *     const rows = await ctx.step("extract", async (step) => {
 *       const data = await db.extract("SELECT * FROM orders WHERE amount >= ?", [ctx.params.minAmount ?? 100]);
 *       step.rowsOut = data.length;
 *       return data;
 *     });
 *     return { count: rows.length };
 *   },
 * );
 * ```
 */
export function pipeline<P extends Params = Params>(meta: PipelineMeta, fn: PipelineFn<P>): PipelineDefinition {
  let copy: Readonly<PipelineMeta> = ObjectFreeze({ name: "" });
  let problem: TauSdkError | null = null;
  if (typeof meta !== "object" || meta === null || ArrayIsArray(meta)) {
    problem = metaProblem("meta", "pipeline() takes the meta object first, e.g. pipeline({ name: \"orders\" }, async (ctx) => { … }).");
  } else {
    try {
      const text = toJson(meta);
      copy = deepFreeze(parseJson(text ?? "{}") as PipelineMeta);
    } catch (err) {
      problem = metaProblem("meta", `The pipeline meta is not plain JSON: ${errorMessage(err)}`);
    }
  }
  if (problem === null && typeof fn !== "function") {
    problem = metaProblem("fn", "pipeline() takes the pipeline's function second: pipeline({ name: … }, async (ctx) => { … }).");
  }
  const definition: PipelineDefinition = ObjectFreeze({ meta: copy });
  definitions.set(definition, { meta: copy, fn: fn as PipelineFn, problem });
  return definition;
}

/** The internals of a genuine definition, or null for anything pipeline() did not make. */
export function definitionOf(value: unknown): DefinitionInternals | null {
  if (typeof value !== "object" || value === null) return null;
  return definitions.get(value) ?? null;
}
