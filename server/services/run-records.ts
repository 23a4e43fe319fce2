/**
 * What the run service keeps of a queued run in memory, and the run records it writes: a first attempt or
 * a retry (`newRun`), and the ends the daemon itself decides (cancelled, interrupted).
 */
import type { RunTrigger } from "../contract";
import type { Policy } from "../../policies";
import type { RunJob, RunJobSecrets, RunOutcome } from "../../sandbox/types";
import { daemonRunError, iso, type NewRun, type RunEnd, type RunnableVersion, type RunRef, type RunRow } from "../store";
import type { QueueItem } from "./run-queue";

export interface QueuedRun extends QueueItem {
  ref: RunRef;
  version: number;
  params: Record<string, unknown>;
  trigger: RunTrigger;
  /** 1-based; `maxAttempts` = 1 + the pipeline's retries when the first attempt was queued. */
  attempt: number;
  maxAttempts: number;
  graphRunId: string | null;
}

/** What an executor is handed to run `run` on `version`. */
export function runJobOf(
  run: QueuedRun,
  version: RunnableVersion,
  context: { policy: Policy; lastSuccess: number | null; dataDir: string; secrets: RunJobSecrets | undefined },
): RunJob {
  return {
    runId: run.ref.runId,
    tenantId: run.ref.tenantId,
    pipeline: run.ref.pipeline,
    version: run.version,
    filename: version.filename,
    bundle: version.bundle,
    sourceMap: version.sourceMap,
    params: run.params,
    lastSuccessfulRun: context.lastSuccess === null ? null : iso(context.lastSuccess),
    timeoutSec: version.meta.timeoutSec,
    policy: context.policy,
    dataDir: context.dataDir,
    ...(context.secrets ? { secrets: context.secrets } : {}),
  };
}

/** The ledger's record of a queued run (first attempt or retry). */
export function newRun(run: QueuedRun, queuedAt: number, notBefore: number | null): NewRun {
  return {
    ...run.ref,
    pipelineId: run.pipelineId,
    version: run.version,
    trigger: run.trigger,
    params: run.params,
    queuedAt,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    notBefore,
    graphRunId: run.graphRunId,
  };
}

/** A run a previous daemon left unfinished, as it was queued (its row, with the pipeline populated). */
export function recoveredRun(row: RunRow): QueuedRun {
  const ref = { tenantId: row.tenantId, runId: row.id, pipeline: row.pipeline.name };
  return {
    ref,
    runId: row.id,
    tenantId: row.tenantId,
    pipelineId: row.pipeline.id,
    maxConcurrentRuns: row.pipeline.maxConcurrentRuns,
    version: row.version,
    params: row.params,
    trigger: row.trigger,
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    graphRunId: row.graphRunId,
  };
}

/** The QueuedRun fields of a run (an ActiveRun has more), which its retry copies. */
export function retryCopy(run: QueuedRun): QueuedRun {
  return {
    ref: run.ref,
    runId: run.runId,
    tenantId: run.tenantId,
    pipelineId: run.pipelineId,
    maxConcurrentRuns: run.maxConcurrentRuns,
    version: run.version,
    params: run.params,
    trigger: run.trigger,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    graphRunId: run.graphRunId,
  };
}

export function cancelled(message: string): RunEnd {
  return { status: "cancelled", error: daemonRunError("TAU_E_RUN_CANCELLED", message) };
}

export function toRunEnd(outcome: RunOutcome, interruptedByShutdown: boolean): RunEnd {
  if (outcome.status === "cancelled" && interruptedByShutdown) return interrupted("while it was running");
  return outcome;
}

export function interrupted(when: string): RunEnd {
  return { status: "failed", error: daemonRunError("TAU_E_RUN_INTERRUPTED", `The daemon stopped ${when}.`) };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
