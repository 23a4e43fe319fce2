/**
 * An executor pool that runs nothing: each run waits until the test ends it with the outcome it wants
 * (success, a failure with a code, a cancel). Used where queueing, slots, retries and restarts are decided.
 */
import { ERRORS, type ErrorCode, type RunError } from "../../../server/contract";
import type { ExecutorPoolPort } from "../../../server/sandbox-port";
import type { RunJob, RunOutcome } from "../../../sandbox/types";

export class HeldPool implements ExecutorPoolPort {
  readonly held = new Map<string, { job: RunJob; finish: (outcome: RunOutcome) => void }>();
  readonly started: string[] = [];

  async start(): Promise<void> {}
  async close(): Promise<void> {}
  status(): [] {
    return [];
  }
  async describe(): Promise<never> {
    throw new Error("the tests deploy through the store");
  }

  run(job: RunJob): Promise<RunOutcome> {
    return new Promise((resolve) => {
      this.started.push(job.runId);
      this.held.set(job.runId, {
        job,
        finish: (outcome) => {
          this.held.delete(job.runId);
          resolve(outcome);
        },
      });
    });
  }

  cancel(runId: string): boolean {
    const run = this.held.get(runId);
    if (!run) return false;
    run.finish({ status: "cancelled", error: runError("TAU_E_RUN_CANCELLED") });
    return true;
  }

  succeed(runId: string): void {
    this.take(runId).finish({ status: "succeeded", result: { ok: true } });
  }

  fail(runId: string, code: ErrorCode): void {
    this.take(runId).finish({ status: "failed", error: runError(code) });
  }

  /** The held runs of one pipeline. */
  of(pipeline: string): string[] {
    return [...this.held.values()].filter((r) => r.job.pipeline === pipeline).map((r) => r.job.runId);
  }

  private take(runId: string): { finish: (outcome: RunOutcome) => void } {
    const run = this.held.get(runId);
    if (!run) throw new Error(`run ${runId} is not executing`);
    return run;
  }
}

/** A run error as the sandbox reports one: the code's message and hint, no step or position. */
export function runError(code: ErrorCode): RunError {
  return { code, message: ERRORS[code].message, hint: ERRORS[code].hint, step: null, line: null, column: null, details: {} };
}
