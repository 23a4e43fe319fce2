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
  /** 1 for the first attempt; a retry is a new run with the next number (docs/runs.md). */
  attempt: number;
  /** 1 + the pipeline's `retries` when the run was queued. */
  maxAttempts: number;
  /** The attempt this run retries (null for a first attempt). */
  retryOf: string | null;
  /** The attempt that retries this one (null unless this run failed and a retry was queued). */
  retriedBy: string | null;
  /** A queued retry does not start before this time (its backoff); null otherwise. */
  notBefore: string | null;
  /** The graph run (`tau dag run`) this run belongs to, or null. */
  graphRunId: string | null;
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
  /** Whether the schedule fires (`tau schedule NAME --disable`); manual runs are never refused. */
  enabled: boolean;
  /** The interval in seconds when the schedule is `--every N` (then `schedule` is null). */
  everySec: number | null;
  /** Time zone of the cron schedule (UTC unless set with `tau schedule NAME CRON --tz ZONE`); null without one. */
  timezone: string | null;
  /** The schedule's next planned fire; null when unscheduled or disabled. */
  nextRunAt: string | null;
  dependsOn: string[];
  timeoutSec: number | null;
  /** Retries of a failed run (retryable errors only, unless `retryOn` names more codes). */
  retries: number;
  /** Base delay of the exponential backoff between attempts, in seconds. */
  retryDelaySec: number;
  /** Runs of this pipeline executing at once; more wait in the queue. */
  maxConcurrentRuns: number;
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

/** POST /api/pipelines/:name/rollback */
export interface RollbackRequest {
  /** The version to make current (default: the newest version older than the current one). */
  to?: number;
}

export interface RollbackResponse {
  pipeline: PipelineView;
  /** The version that was current before. */
  from: number;
  /** The version that is current now. */
  to: number;
  /** false when `to` was already current: nothing changed. */
  changed: boolean;
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
  /** The daemon's home folder and pid: null in hosted mode unless the caller is a platform admin. */
  home: string | null;
  pid: number | null;
  startedAt: string;
  uptimeMs: number;
  pipelines: number;
  runs: { queued: number; running: number };
  executors: ExecutorStatus[];
  /** Where runs execute: the daemon's own executors, or `taud worker` processes (their live count and slots). */
  runsOn: "local" | "workers";
  workers: { active: number; draining: number; capacity: number } | null;
}

/** A `taud worker` process (GET /api/workers; docs/workers.md). */
export interface WorkerView {
  id: string;
  /** null unless the caller is a platform admin (hosted mode). */
  host: string | null;
  pid: number | null;
  capacity: number;
  executors: number;
  /** Every tenant's runs on it for a platform admin, else the caller's tenant's only. */
  running: number;
  leaseSec: number;
  state: "active" | "draining" | "lost" | "stopped";
  startedAt: string;
  heartbeatAt: string;
  endedAt: string | null;
}

export interface WorkersView {
  runsOn: "local" | "workers";
  workers: WorkerView[];
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

/** One run as a point of a chart (GET /api/history, GET /api/pipelines/:name/history): no params, result or logs. */
export interface RunPoint {
  id: string;
  version: number;
  status: RunStatus;
  trigger: RunTrigger;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** rowsIn of the first step that reported one. */
  rowsIn: number | null;
  /** rowsOut of the last step that reported one: what the run produced. */
  rowsOut: number | null;
  errorCode: ErrorCode | null;
}

/** GET /api/history: each pipeline's newest runs, newest first, by pipeline name. */
export interface HistoryView {
  pipelines: Record<string, RunPoint[]>;
}

// ── schedules and the DAG (docs/scheduling.md) ────────────────────────────────────────────────────

/** What the schedule's last fire did. */
export interface ScheduleFireView {
  /** The fire time that was due. */
  plannedAt: string;
  firedAt: string;
  /** The run it queued, or null when skipped. */
  runId: string | null;
  /** Why no run was queued: `overlap` (another run of the pipeline was queued or running) or a TAU_E_ code. */
  skipped: string | null;
  /** A catch-up run fired at daemon start for fires missed while it was down. */
  catchUp: boolean;
}

/** GET/POST /api/pipelines/:name/schedule, `tau schedule NAME`. */
export interface ScheduleView {
  pipeline: string;
  /** Cron expression in effect, or null. */
  cron: string | null;
  /** Interval in seconds in effect, or null. */
  everySec: number | null;
  /** Time zone of the cron expression (UTC by default); null without a cron expression. */
  timezone: string | null;
  /** `meta`: the file's schedule; `cli`: set by `tau schedule` (until a deploy changes the file's); `none`. */
  source: "meta" | "cli" | "none";
  /** The file's own `schedule` (what `--reset` returns to). */
  metaSchedule: string | null;
  enabled: boolean;
  allowOverlap: boolean;
  catchUp: number;
  nextRunAt: string | null;
  lastFire: ScheduleFireView | null;
}

/** POST /api/pipelines/:name/schedule: every field optional; absent fields stay as they are. */
export interface ScheduleRequest {
  cron?: string;
  everySec?: number;
  timezone?: string;
  enabled?: boolean;
  allowOverlap?: boolean;
  catchUp?: number;
  /** Drop `tau schedule`'s cron/interval and return to the file's schedule. */
  reset?: boolean;
}

/** GET/POST /api/pipelines/:name/depends, `tau depends NAME`. */
export interface DependsView {
  pipeline: string;
  /** Dependencies in effect, sorted. */
  dependsOn: string[];
  /** `meta`: the file's dependsOn; `cli`: set by `tau depends` (until a deploy changes the file's). */
  source: "meta" | "cli";
  /** The file's own dependsOn. */
  metaDependsOn: string[];
  /** Deployed pipelines that depend on this one, sorted. */
  dependents: string[];
  /** Dependencies that name no deployed pipeline (allowed; such a pipeline waits for them), sorted. */
  missing: string[];
}

/** POST /api/pipelines/:name/depends. */
export interface DependsRequest {
  /** The new dependencies (replacing the current ones); [] means none. */
  dependsOn?: string[];
  /** Drop `tau depends`'s override and return to the file's dependsOn. */
  reset?: boolean;
}

export interface DagNode {
  name: string;
  dependsOn: string[];
  /** Cron expression or `every Ns`, or null. */
  schedule: string | null;
  /** Status of the pipeline's newest run, or null when it never ran. */
  lastStatus: RunStatus | null;
}

/** GET /api/dag, `tau dag`. */
export interface DagView {
  nodes: DagNode[];
  /** `from` must succeed before `to` runs. Sorted by from, then to. */
  edges: Array<{ from: string; to: string }>;
  /** Topological levels: every pipeline of a group depends only on earlier groups. Names sorted. */
  groups: string[][];
  /** Names depended on that are not deployed, sorted. */
  missing: string[];
}

/** GET /api/dag?format=mermaid|dot, `tau dag --format …`. */
export interface DagTextView {
  format: "mermaid" | "dot";
  text: string;
}

/** POST /api/dag/runs, `tau dag run`. */
export interface GraphRunRequest {
  /** Run this pipeline and everything downstream of it (default: the whole graph). */
  from?: string;
  /** Answer once the graph run has ended (bounded by waitMs). */
  wait?: boolean;
  waitMs?: number;
}

export type GraphRunStatus = "running" | "succeeded" | "failed";

/** One pipeline of a graph run. */
export interface GraphRunEntry {
  pipeline: string;
  /** Index of its group (topological level) within the graph run. */
  group: number;
  /** `pending` until its run is queued. */
  status: RunStatus | "pending";
  runId: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: RunError | null;
}

/** A graph run: GET /api/dag/runs/:id. */
export interface GraphRunView {
  id: string;
  /** `--from` pipeline, or null for the whole graph. */
  root: string | null;
  status: GraphRunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  groups: string[][];
  /** In group order, then by name. */
  runs: GraphRunEntry[];
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
  | { type: "subscribe"; runId: string; afterSeq?: number; kinds?: RunEventKind[] }
  | { type: "subscribe"; pipeline: string; afterSeq?: number; kinds?: RunEventKind[] }
  /** Every event of the tenant (the dashboard's overview). */
  | { type: "subscribe"; all: true; afterSeq?: number; kinds?: RunEventKind[] }
  | { type: "unsubscribe"; runId?: string; pipeline?: string; all?: true }
  /** Answered with `pong`: lets a browser (which cannot send ping frames) detect a dead connection. */
  | { type: "ping" };

/** Server → client. */
export type WsServerMessage =
  | { type: "event"; event: RunEvent }
  | { type: "subscribed"; runId?: string; pipeline?: string; all?: true; lastSeq: number }
  | { type: "error"; error: { code: ErrorCode; message: string; hint: string } }
  | { type: "pong" };
