/**
 * Executor ⇄ pool IPC (JSON over `process.send`, Node's default "json" serialisation). One executor process
 * runs many runs and describes at once; every message names the run or describe it belongs to.
 *
 *   pool → executor: run, forget, describe, cancel, shutdown (and test.fault when TAU_EXECUTOR_TEST_HOOKS=1)
 *   executor → pool: ready (once, after start), event*, outcome (once per run), described (once per
 *                    describe), wedged (when an isolate would not stop), closed (once, after shutdown,
 *                    just before exiting) — sent as `batch` messages: what one event-loop turn produced, in
 *                    order, in one IPC message
 *
 * Bundles: a `run` carries the bundle and source map in its job the first time the pool sends that bundle to
 * an executor; afterwards only `bundleKey` (the SHA-256 the executor computed from the text, see
 * guest-runtime.ts `bundleKey`). The pool tracks what each executor holds and sends `forget` past
 * BUNDLE_CACHE_LIMITS; a restarted executor holds nothing.
 *
 * The executor answers every run with exactly one `outcome` and every describe with exactly one `described`,
 * unless it dies; the pool then fails whatever it had in flight on that executor.
 */
import type { Policy } from "../../policies";
import type { RunError } from "../../server/contract";
import type { RunJob, RunOutcome, SandboxEvent } from "../types";

/** A job without its bundle and source map, for a bundle the executor already holds. */
export type RunJobWithoutCode = Omit<RunJob, "bundle" | "sourceMap">;

export type PoolToExecutor =
  /** `job` carries the bundle, or `bundleKey` names one the executor holds. */
  | { t: "run"; job: RunJob | RunJobWithoutCode; bundleKey?: string }
  /** Drop these bundles (the pool's bound on what an executor keeps). */
  | { t: "forget"; keys: string[] }
  | { t: "describe"; id: string; bundle: string; sourceMap: string; filename: string; policy: Policy }
  | { t: "cancel"; runId: string }
  | { t: "shutdown" }
  /** Test hook: make the executor throw an uncaught exception or leave a rejection unhandled. */
  | { t: "test.fault"; kind: "exception" | "rejection" };

/** The meta as the guest declared it: not validated yet (the pool does that, see sandbox/meta.ts). */
export type RawDescribeOutcome = { ok: true; meta: unknown } | { ok: false; error: RunError };

export interface RunStats {
  /** Isolate creation, runtime and bundle evaluation, in ms. */
  setupMs: number;
  /** From the start of setup to the outcome, in ms. */
  wallMs: number;
  /** CPU time the isolate used, in ms. */
  cpuMs: number;
}

export type ExecutorToPool =
  | { t: "ready"; pid: number }
  | { t: "event"; runId: string; event: SandboxEvent }
  | { t: "outcome"; runId: string; outcome: RunOutcome; stats: RunStats }
  | { t: "described"; id: string; outcome: RawDescribeOutcome }
  /**
   * An isolate's thread did not stop after disposal (an uninterruptible built-in). The executor keeps serving
   * what it has; the pool sends it nothing new and replaces it once its in-flight work is done.
   */
  | { t: "wedged"; reason: string }
  | { t: "closed" }
  /** Several of the above, in order (what the executor produced in one event-loop turn). */
  | { t: "batch"; messages: ExecutorToPool[] };

/** How many bundles (and bytes of bundle text) the pool lets one executor keep. */
export const BUNDLE_CACHE_LIMITS = { entries: 128, bytes: 64 * 1024 * 1024 } as const;

/** Describe (deploy time) runs under these limits whatever the policy says, or tighter. */
export const DESCRIBE_LIMITS = { wallMs: 5000, cpuMs: 2000 } as const;

/** Environment variables the executor reads (in main.ts, nowhere else). */
export const EXECUTOR_ENV = {
  /** Path of the guest runtime script (default `<package root>/dist/guest/runtime.js`). */
  guestRuntime: "TAU_GUEST_RUNTIME",
  /** "1" enables the `test.fault` message. */
  testHooks: "TAU_EXECUTOR_TEST_HOOKS",
} as const;

export function isPoolMessage(value: unknown): value is PoolToExecutor {
  return typeof value === "object" && value !== null && typeof (value as { t?: unknown }).t === "string";
}

export function isExecutorMessage(value: unknown): value is ExecutorToPool {
  return typeof value === "object" && value !== null && typeof (value as { t?: unknown }).t === "string";
}
