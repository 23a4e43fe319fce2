/**
 * Builds the `ctx` a pipeline's function receives. Internal to the SDK (the type is PipelineContext).
 */
import { bridgeCallSync, callSite } from "./bridge";
import { fillSdkError } from "./errors";
import { deepFreeze } from "./json";
import { createLog } from "./log";
import { createMaterialize } from "./materializations/materialize";
import { ObjectFreeze } from "./primordials";
import type { StepTracker } from "./steps";
import type { Params, PipelineContext, Step } from "./types";

/** What the host passes to run() (the `initJson` of docs/bridge-protocol.md), already validated. */
export interface RunInit {
  runId: string;
  pipeline: string;
  params: Params;
  lastSuccessfulRun: Date | null;
}

const SECRET_NAME_MAX = 256;

export function createContext(init: RunInit, steps: StepTracker): PipelineContext {
  function step<T>(name: string, fn: (step: Step) => Promise<T> | T): Promise<T>;
  function step(name: string): Step;
  function step<T>(name: string, fn?: (step: Step) => Promise<T> | T): Promise<T> | Step {
    if (fn === undefined) return steps.start(name);
    return steps.run<T>(name, fn);
  }

  function secret(name: string): string {
    const site = callSite();
    if (typeof name !== "string" || name === "" || name.length > SECRET_NAME_MAX) {
      throw fillSdkError(
        site,
        "TAU_E_SECRET_NOT_FOUND",
        "ctx.secret(name) needs the secret's name as a non-empty string.",
        'Pass the name, e.g. ctx.secret("WAREHOUSE_DSN").',
        {},
        steps.innermost()?.name ?? null,
      );
    }
    const value = bridgeCallSync("secret.check", { name }, site) as { marker?: unknown } | null;
    return value !== null && typeof value === "object" && typeof value.marker === "string" ? value.marker : `{{tau.secret:${name}}}`;
  }

  return ObjectFreeze({
    runId: init.runId,
    pipeline: init.pipeline,
    params: deepFreeze(init.params),
    lastSuccessfulRun: init.lastSuccessfulRun,
    log: createLog(null),
    step,
    secret,
    materialize: createMaterialize(steps),
  });
}
