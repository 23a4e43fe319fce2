/**
 * The runtime's entry points as the host calls them (docs/bridge-protocol.md): `run(initJson)` and
 * `describe()`. Both answer with a JSON string and never throw or reject. Internal to the SDK.
 */
import { drainPosts, setBridgeHooks, takeDeferredError } from "./bridge";
import { createContext, type RunInit } from "./context";
import { createSdkError, errorData, type TauSdkError } from "./errors";
import { errorMessage, parseJson, toJson } from "./json";
import { definitionOf, type DefinitionInternals } from "./pipeline";
import { ArrayIsArray, DateCtor, JSONStringify, NumberIsFinite, dateGetTime, globalObject } from "./primordials";
import { StepTracker, type StepRecord } from "./steps";

/** The global the pipeline bundle (esbuild `globalName`) defines. */
const MODULE_GLOBAL = "__tau_pipeline_module";

let started = false;

/**
 * The failure answer. The envelope is written as text and the error data has no prototype, so neither a
 * patched JSON.stringify nor an `Object.prototype.toJSON` can change the answer's shape.
 */
function failure(err: unknown, step: string | null): string {
  try {
    const data = errorData(err) as unknown as Record<string, unknown>;
    if (step !== null) data.step = step;
    return `{"ok":false,"error":${JSONStringify(data)}}`;
  } catch {
    return '{"ok":false,"error":{"name":"Error","message":"The pipeline failed with an error that could not be described.","stack":""}}';
  }
}

function findDefinition(): DefinitionInternals | TauSdkError {
  let exported: unknown;
  try {
    const mod = (globalObject as unknown as Record<string, unknown>)[MODULE_GLOBAL];
    exported = typeof mod === "object" && mod !== null ? (mod as Record<string, unknown>).default : undefined;
  } catch {
    exported = undefined;
  }
  const internals = definitionOf(exported);
  if (internals === null) {
    return createSdkError("TAU_E_DEPLOY_NO_PIPELINE", "The file does not default-export a pipeline made by pipeline() from \"tau\".", {
      hint: 'End the file with `export default pipeline({ name: "…" }, async (ctx) => { … })`, importing pipeline from "tau".',
    });
  }
  return internals.problem ?? internals;
}

function parseInit(initJson: unknown): RunInit | TauSdkError {
  const invalid = (what: string): TauSdkError => createSdkError("TAU_E_INTERNAL", `The host passed an invalid run init: ${what}.`);
  let init: unknown;
  try {
    init = typeof initJson === "string" ? parseJson(initJson) : undefined;
  } catch {
    return invalid("not JSON");
  }
  if (typeof init !== "object" || init === null || ArrayIsArray(init)) return invalid("not an object");
  const i = init as Record<string, unknown>;
  if (typeof i.runId !== "string" || typeof i.pipeline !== "string") return invalid("runId and pipeline must be strings");
  const params = i.params ?? {};
  if (typeof params !== "object" || params === null || ArrayIsArray(params)) return invalid("params must be an object");
  let last: Date | null = null;
  if (typeof i.lastSuccessfulRun === "string") {
    last = new DateCtor(i.lastSuccessfulRun);
    if (!NumberIsFinite(dateGetTime(last))) return invalid("lastSuccessfulRun is not an ISO date");
  } else if (i.lastSuccessfulRun !== null && i.lastSuccessfulRun !== undefined) {
    return invalid("lastSuccessfulRun must be an ISO string or null");
  }
  return { runId: i.runId, pipeline: i.pipeline, params: params as Record<string, unknown>, lastSuccessfulRun: last };
}

function resultError(reason: string): TauSdkError {
  return createSdkError("TAU_E_PIPELINE_RESULT_INVALID", `The pipeline's return value cannot be stored as JSON: ${reason}.`, {
    hint: "Return plain JSON data (objects, arrays, strings, numbers, booleans, null).",
  });
}

/** Serialises the result; undefined is stored as null. */
function resultJson(result: unknown): string | TauSdkError {
  let text: string | undefined;
  try {
    text = toJson(result === undefined ? null : result);
  } catch (err) {
    return resultError(errorMessage(err));
  }
  if (text === undefined) return resultError(`a ${typeof result} has no JSON form`);
  return text;
}

async function runOnce(initJson: unknown): Promise<string> {
  const init = parseInit(initJson);
  if (!("runId" in init)) return failure(init, null);
  const found = findDefinition();
  if (!("fn" in found)) return failure(found, null);

  const steps = new StepTracker();
  setBridgeHooks({
    currentStep: () => steps.innermost(),
    attribute: (err, step) => steps.attribute(err, step as StepRecord),
    beforeActivity: () => steps.flushDeferred(),
  });
  const ctx = createContext(init, steps);

  let failed = false;
  let error: unknown;
  let text = "null";
  try {
    const outcome = resultJson(await found.fn(ctx));
    if (typeof outcome === "string") text = outcome;
    else {
      failed = true;
      error = outcome;
    }
  } catch (err) {
    failed = true;
    error = err;
  }
  let errorStep = steps.finishRun(failed, error);
  await drainPosts();
  const refused = takeDeferredError();
  if (!failed && refused !== null) {
    failed = true;
    error = refused;
    errorStep = refused.step;
  }
  setBridgeHooks(null);
  return failed ? failure(error, errorStep) : `{"ok":true,"result":${text}}`;
}

/**
 * Runs the pipeline once. Resolves to `{"ok":true,"result":…}` or `{"ok":false,"error":{name, message,
 * stack, code?, hint?, details?, step?}}` as a JSON string; never rejects.
 */
export async function run(initJson: unknown): Promise<string> {
  if (started) return failure(createSdkError("TAU_E_INTERNAL", "run() was called twice in one sandbox."), null);
  started = true;
  try {
    return await runOnce(initJson);
  } catch (err) {
    return failure(err, null);
  }
}

/** The default export's meta as declared: `{"ok":true,"meta":{…}}` or `{"ok":false,"error":{…}}`. */
export function describe(): string {
  try {
    const found = findDefinition();
    if (!("fn" in found)) return failure(found, null);
    return `{"ok":true,"meta":${JSONStringify(found.meta)}}`;
  } catch (err) {
    return failure(err, null);
  }
}
