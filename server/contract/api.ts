/**
 * The types of Tau's HTTP API and WebSocket stream, shared by server, CLI and dashboard.
 * Times are ISO-8601 UTC strings; durations are integer milliseconds.
 */
import type { ErrorCode } from "./errors";

export const API_VERSION = "1";

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";
export type RunTrigger = "manual" | "schedule" | "dag" | "heal";
export type StepStatus = "running" | "succeeded" | "failed";
export type LogLevel = "debug" | "info" | "warn" | "error";

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "skipped", "cancelled"];

/** A run's error: where it happened in the pipeline file as written (not the bundle). */
export interface RunError {
  code: ErrorCode;
  message: string;
  hint: string;
  step: string | null;
  line: number | null;
  column: number | null;
  details: Record<string, unknown>;
}

export interface StepView {
  name: string;
  status: StepStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  meta: Record<string, unknown>;
  error: { code: ErrorCode; message: string } | null;
}

export interface LogLine {
  seq: number;
  ts: string;
  level: LogLevel;
  step: string | null;
  message: string;
  fields: Record<string, unknown> | null;
}

export interface RunView {
  id: string;
  pipeline: string;
  version: number;
  status: RunStatus;
  trigger: RunTrigger;
  params: Record<string, unknown>;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  steps: StepView[];
  result: unknown;
  error: RunError | null;
  logs: LogLine[];
}

/** A run in listings (`tau runs`, `tau errors`): no steps or logs. */
export type RunSummary = Omit<RunView, "steps" | "logs">;

export interface PipelineVersionView {
  version: number;
  hash: string;
  createdAt: string;
  sourceBytes: number;
  filename: string;
}

export interface PipelineView {
  name: string;
  description: string;
  tags: string[];
  schedule: string | null;
  enabled: boolean;
  dependsOn: string[];
  timeoutSec: number | null;
  currentVersion: number;
  filename: string;
  createdAt: string;
  updatedAt: string;
  lastRun: RunSummary | null;
}

export interface PipelineDetailView extends PipelineView {
  versions: PipelineVersionView[];
}

/** POST /api/pipelines */
export interface DeployRequest {
  /** The pipeline file's text, as written. */
  source: string;
  /** Path the client read the file from; shown in errors and used to detect name clashes. */
  filename: string;
  name?: string;
  schedule?: string;
  typecheck?: boolean;
  /** Allow a different file to become the next version of an existing pipeline. */
  replace?: boolean;
}

export interface DeployResponse {
  pipeline: PipelineView;
  version: number;
  hash: string;
  /** false when the source was identical to the current version: nothing was stored. */
  changed: boolean;
  warnings: string[];
}

/** POST /api/pipelines/:name/runs */
export interface RunRequest {
  params?: Record<string, unknown>;
  /** Wait for the run to end before answering (bounded by waitMs). */
  wait?: boolean;
  waitMs?: number;
}

export interface CodeView {
  name: string;
  version: number;
  hash: string;
  filename: string;
  source: string;
}

export interface StatusView {
  status: "ok";
  version: string;
  mode: "local" | "hosted";
  home: string;
  pid: number;
  startedAt: string;
  uptimeMs: number;
  pipelines: number;
  runs: { queued: number; running: number };
  executors: ExecutorStatus[];
}

export interface ExecutorStatus {
  id: number;
  pid: number | null;
  state: "starting" | "ready" | "dead";
  running: number;
  restarts: number;
}

export interface VersionView {
  name: "tau";
  version: string;
  apiVersion: string;
  node: string;
}

// ── events ─────────────────────────────────────────────────────────────────────────────────────────

export type RunEventKind =
  | "run.queued"
  | "run.started"
  | "step.started"
  | "step.finished"
  | "log"
  | "run.finished";

/**
 * One stored event. `seq` is global to the daemon and strictly increasing: a subscriber that
 * reconnects with the last seq it saw misses nothing and sees nothing twice.
 */
export interface RunEvent {
  seq: number;
  runId: string;
  pipeline: string;
  ts: string;
  kind: RunEventKind;
  level: LogLevel | null;
  step: string | null;
  message: string | null;
  data: Record<string, unknown> | null;
}

/** Client → server over the WebSocket at /api/events. */
export type WsClientMessage =
  | { type: "subscribe"; runId: string; afterSeq?: number }
  | { type: "subscribe"; pipeline: string; afterSeq?: number }
  | { type: "unsubscribe"; runId?: string; pipeline?: string };

/** Server → client. */
export type WsServerMessage =
  | { type: "event"; event: RunEvent }
  | { type: "subscribed"; runId?: string; pipeline?: string; lastSeq: number }
  | { type: "error"; error: { code: ErrorCode; message: string; hint: string } };
