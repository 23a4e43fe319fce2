/**
 * The sandbox's surface as the server sees it. The server never touches an isolate: it compiles a
 * pipeline file (compile.ts), asks the executor pool to describe a bundle (read its meta in a sandbox)
 * and to run it. Everything here is plain data that crosses process boundaries as JSON.
 */
import type { ErrorCode, LogLevel, RunError, StepStatus } from "../server/contract";
import type { Policy } from "../policies";

/** The pipeline's meta as declared in `pipeline(meta, fn)`, validated on the host. */
export interface PipelineMeta {
  name: string;
  description: string;
  schedule: string | null;
  /** IANA time zone the schedule's cron fields are read in (null: UTC). Absent in versions deployed before it existed. */
  timezone?: string | null;
  tags: string[];
  dependsOn: string[];
  timeoutSec: number | null;
  /** Run control (docs/runs.md): retries of a failed run, their backoff base, extra codes to retry. */
  retries: number;
  retryDelaySec: number;
  retryOn: ErrorCode[];
  /** Runs of this pipeline executing at once. */
  maxConcurrentRuns: number;
}

export interface CompileInput {
  /** The pipeline file's text. */
  source: string;
  /** The name errors use for the file (the client's path). */
  filename: string;
  /** Type-check against the SDK's declarations (default true). */
  typecheck?: boolean;
}

export interface CompiledPipeline {
  /** Script evaluated in the isolate after the guest runtime. */
  bundle: string;
  /** esbuild's source map (JSON text) from bundle to the original file. */
  sourceMap: string;
  /** sha256 hex of the source as written. */
  hash: string;
}

/** One run handed to an executor. */
export interface RunJob {
  runId: string;
  tenantId: string;
  pipeline: string;
  version: number;
  filename: string;
  bundle: string;
  sourceMap: string;
  params: Record<string, unknown>;
  /** ISO time of the pipeline's last successful run, or null. */
  lastSuccessfulRun: string | null;
  /** The pipeline's own timeoutSec (capped by policy.limits.maxWallSec). */
  timeoutSec: number | null;
  policy: Policy;
  /** Folder for the tenant's data (duckdb_local's default file and relative paths live here). */
  dataDir: string;
  /**
   * Secrets the daemon resolved for this run (the tenant's stored secrets its policy allows, decrypted) and
   * whether ctx.secret may also read the executor's environment (local mode only). Absent: environment only.
   */
  secrets?: RunJobSecrets;
}

export interface RunJobSecrets {
  values: Record<string, string>;
  environment: boolean;
}

/** What a run emits while it runs; the server stores each, then fans it out. */
export type SandboxEvent =
  | { kind: "step.started"; ts: string; step: string }
  | {
      kind: "step.finished";
      ts: string;
      step: string;
      status: Exclude<StepStatus, "running">;
      durationMs: number;
      rowsIn: number | null;
      rowsOut: number | null;
      meta: Record<string, unknown>;
      error: { code: ErrorCode; message: string } | null;
    }
  | { kind: "log"; ts: string; level: LogLevel; step: string | null; message: string; fields: Record<string, unknown> | null };

export type RunOutcome =
  | { status: "succeeded"; result: unknown }
  | { status: "failed"; error: RunError }
  | { status: "cancelled"; error: RunError };

export type DescribeOutcome = { ok: true; meta: PipelineMeta } | { ok: false; error: RunError };
