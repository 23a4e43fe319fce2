/**
 * JSON Schemas of the HTTP API (draft 2020-12 compatible; fastify validates requests with them and
 * serialises responses with them, and the OpenAPI document is assembled from the same objects).
 * They mirror server/contract/api.ts; property order here is the order of keys on the wire.
 *
 * Every schema registered in `COMPONENTS` appears once under `components.schemas` in the OpenAPI document;
 * routes reference them by object identity (see openapi.ts).
 */
import { ERROR_CODES } from "../contract";

type Schema = Record<string, unknown>;

const nullable = (type: string): Schema => ({ type: [type, "null"] });
const Time: Schema = { type: "string", format: "date-time" };
const TimeOrNull: Schema = { type: ["string", "null"], format: "date-time" };
/** A free-form JSON object (kept whole by the serialiser). */
const Dict: Schema = { type: "object", additionalProperties: true };
const AnyJson: Schema = {};
const ErrorCode: Schema = { type: "string", enum: [...ERROR_CODES] };
const RunStatus: Schema = { type: "string", enum: ["queued", "running", "succeeded", "failed", "skipped", "cancelled"] };
const RunTrigger: Schema = { type: "string", enum: ["manual", "schedule", "dag", "heal"] };
const LogLevel: Schema = { type: "string", enum: ["debug", "info", "warn", "error"] };
const StringList: Schema = { type: "array", items: { type: "string" } };

const object = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: "object",
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
  ...extra,
});

export const ErrorBody = object({
  code: ErrorCode,
  message: { type: "string" },
  hint: { type: "string" },
  details: Dict,
});

export const ErrorResponse = object({ error: ErrorBody }, { description: "Every error: a stable code, what happened, what to do next." });

export const RunError = object({
  code: ErrorCode,
  message: { type: "string" },
  hint: { type: "string" },
  step: nullable("string"),
  line: nullable("integer"),
  column: nullable("integer"),
  details: Dict,
});

export const StepView = object({
  name: { type: "string" },
  status: { type: "string", enum: ["running", "succeeded", "failed"] },
  startedAt: Time,
  finishedAt: TimeOrNull,
  durationMs: nullable("integer"),
  rowsIn: nullable("integer"),
  rowsOut: nullable("integer"),
  meta: Dict,
  error: {
    type: ["object", "null"],
    properties: { code: ErrorCode, message: { type: "string" } },
    required: ["code", "message"],
    additionalProperties: false,
  },
});

export const LogLine = object({
  seq: { type: "integer" },
  ts: Time,
  level: LogLevel,
  step: nullable("string"),
  message: { type: "string" },
  fields: { type: ["object", "null"], additionalProperties: true },
});

const runSummaryProperties = {
  id: { type: "string" },
  pipeline: { type: "string" },
  version: { type: "integer" },
  status: RunStatus,
  trigger: RunTrigger,
  params: Dict,
  attempt: { type: "integer", minimum: 1, description: "1 for a first attempt; each retry is a new run with the next number." },
  maxAttempts: { type: "integer", minimum: 1 },
  retryOf: { type: ["string", "null"], description: "The attempt this run retries." },
  retriedBy: { type: ["string", "null"], description: "The attempt that retries this one." },
  notBefore: { ...TimeOrNull, description: "A queued retry does not start before this time." },
  graphRunId: { type: ["string", "null"], description: "The graph run (tau dag run) this run belongs to." },
  queuedAt: Time,
  startedAt: TimeOrNull,
  finishedAt: TimeOrNull,
  durationMs: nullable("integer"),
  /** Any JSON the pipeline returned; null until it succeeds. */
  result: AnyJson,
  error: { anyOf: [RunError, { type: "null" }] },
};

export const RunSummary = object(runSummaryProperties);

const { result, error, ...runHead } = runSummaryProperties;
export const RunView = object({
  ...runHead,
  steps: { type: "array", items: StepView },
  result,
  error,
  logs: { type: "array", items: LogLine, description: "The run's last log lines (at most 1,000); GET /api/runs/{id}/events has all." },
});

export const PipelineVersionView = object({
  version: { type: "integer" },
  hash: { type: "string" },
  createdAt: Time,
  sourceBytes: { type: "integer" },
  filename: { type: "string" },
});

const pipelineViewProperties = {
  name: { type: "string" },
  description: { type: "string" },
  tags: StringList,
  schedule: nullable("string"),
  enabled: { type: "boolean", description: "Whether the schedule fires (tau schedule NAME --disable)." },
  everySec: { ...nullable("integer"), description: "Interval of a `--every N` schedule (then schedule is null)." },
  timezone: { ...nullable("string"), description: "Time zone of the cron schedule (UTC by default)." },
  nextRunAt: { ...TimeOrNull, description: "The schedule's next planned fire." },
  dependsOn: StringList,
  timeoutSec: nullable("integer"),
  retries: { type: "integer" },
  retryDelaySec: { type: "number" },
  maxConcurrentRuns: { type: "integer" },
  currentVersion: { type: "integer" },
  filename: { type: "string" },
  createdAt: Time,
  updatedAt: Time,
  lastRun: { anyOf: [RunSummary, { type: "null" }] },
};

export const PipelineView = object(pipelineViewProperties);
export const PipelineDetailView = object({ ...pipelineViewProperties, versions: { type: "array", items: PipelineVersionView } });

export const DeployRequest = object(
  {
    source: { type: "string", description: "The pipeline file's text, as written." },
    filename: { type: "string", minLength: 1, description: "Path the client read the file from." },
    name: { type: "string", description: "Overrides the name in the pipeline's meta." },
    schedule: { type: "string", description: "Overrides the meta's schedule; an empty string removes it." },
    typecheck: { type: "boolean", default: true },
    replace: { type: "boolean", default: false, description: "Let a different file become the next version of an existing pipeline." },
  },
  { required: ["source", "filename"] },
);

export const DeployResponse = object({
  pipeline: PipelineView,
  version: { type: "integer" },
  hash: { type: "string" },
  changed: { type: "boolean" },
  warnings: StringList,
});

export const RunRequest = object(
  {
    // Any JSON here; the handler answers TAU_E_PARAMS_INVALID (with its specific hint) for a non-object.
    params: { description: "A JSON object handed to the pipeline as ctx.params." },
    wait: { type: "boolean", default: false },
    waitMs: { type: "integer", minimum: 0, maximum: 86_400_000, description: "Bound on wait; default 3,600,000 (1 h)." },
  },
  { required: [] },
);

export const RollbackRequest = object(
  { to: { type: "integer", minimum: 1, description: "The version to make current (default: the newest version older than the current one)." } },
  { required: [] },
);

export const RollbackResponse = object({
  pipeline: PipelineView,
  from: { type: "integer" },
  to: { type: "integer" },
  changed: { type: "boolean" },
});

export const CodeView = object({
  name: { type: "string" },
  version: { type: "integer" },
  hash: { type: "string" },
  filename: { type: "string" },
  source: { type: "string" },
});

export const ExecutorStatus = object({
  id: { type: "integer" },
  pid: nullable("integer"),
  state: { type: "string", enum: ["starting", "ready", "dead"] },
  running: { type: "integer" },
  restarts: { type: "integer" },
});

export const StatusView = object({
  status: { type: "string", enum: ["ok"] },
  version: { type: "string" },
  mode: { type: "string", enum: ["local", "hosted"] },
  home: nullable("string"),
  pid: nullable("integer"),
  startedAt: Time,
  uptimeMs: { type: "integer" },
  pipelines: { type: "integer" },
  runs: object({ queued: { type: "integer" }, running: { type: "integer" } }),
  executors: { type: "array", items: ExecutorStatus },
});

export const VersionView = object({
  name: { type: "string", enum: ["tau"] },
  version: { type: "string" },
  apiVersion: { type: "string" },
  node: { type: "string" },
});

export const RunEvent = object({
  seq: { type: "integer" },
  runId: { type: "string" },
  pipeline: { type: "string" },
  ts: Time,
  kind: { type: "string", enum: ["run.queued", "run.started", "step.started", "step.finished", "log", "run.finished"] },
  level: { type: ["string", "null"], enum: ["debug", "info", "warn", "error", null] },
  step: nullable("string"),
  message: nullable("string"),
  data: { type: ["object", "null"], additionalProperties: true },
});

export const EventPage = object({
  events: { type: "array", items: RunEvent },
  lastSeq: { type: "integer", description: "Seq of the last event in this page (afterSeq when empty): pass it as afterSeq for the next page." },
  hasMore: { type: "boolean" },
});

const EventKinds: Schema = { type: "array", minItems: 1, items: (RunEvent.properties as Record<string, Schema>).kind };

export const WsClientMessage = {
  description: "Client → server over the WebSocket at /api/events.",
  oneOf: [
    object({ type: { const: "subscribe" }, runId: { type: "string" }, afterSeq: { type: "integer", minimum: 0 }, kinds: EventKinds }, { required: ["type", "runId"] }),
    object({ type: { const: "subscribe" }, pipeline: { type: "string" }, afterSeq: { type: "integer", minimum: 0 }, kinds: EventKinds }, { required: ["type", "pipeline"] }),
    object({ type: { const: "subscribe" }, all: { const: true }, afterSeq: { type: "integer", minimum: 0 }, kinds: EventKinds }, { required: ["type", "all"] }),
    object({ type: { const: "unsubscribe" }, runId: { type: "string" }, pipeline: { type: "string" }, all: { const: true } }, { required: ["type"] }),
    object({ type: { const: "ping" } }),
  ],
};

export const WsServerMessage = {
  description:
    "Server → client. After a subscribe, stored events after afterSeq are replayed, then `subscribed` marks the switch to live: every matching event with seq ≤ lastSeq has been sent.",
  oneOf: [
    object({ type: { const: "event" }, event: RunEvent }),
    object({ type: { const: "subscribed" }, runId: { type: "string" }, pipeline: { type: "string" }, all: { const: true }, lastSeq: { type: "integer" } }, { required: ["type", "lastSeq"] }),
    object({ type: { const: "error" }, error: object({ code: ErrorCode, message: { type: "string" }, hint: { type: "string" } }) }),
    object({ type: { const: "pong" } }),
  ],
};

// ── schedules and the DAG (docs/scheduling.md) ──────────────────────────────────────────────────────

export const ScheduleFireView = object({
  plannedAt: Time,
  firedAt: Time,
  runId: nullable("string"),
  skipped: { ...nullable("string"), description: "Why no run was queued: overlap, or a TAU_E_ code." },
  catchUp: { type: "boolean" },
});

export const ScheduleView = object({
  pipeline: { type: "string" },
  cron: nullable("string"),
  everySec: nullable("integer"),
  timezone: nullable("string"),
  source: { type: "string", enum: ["meta", "cli", "none"] },
  metaSchedule: nullable("string"),
  enabled: { type: "boolean" },
  allowOverlap: { type: "boolean" },
  catchUp: { type: "integer" },
  nextRunAt: TimeOrNull,
  lastFire: { anyOf: [ScheduleFireView, { type: "null" }] },
});

export const ScheduleRequest = object(
  {
    cron: { type: "string", minLength: 1, maxLength: 256, description: "Cron expression (five fields, or six with seconds first)." },
    everySec: { type: "integer", minimum: 1, maximum: 31_622_400, description: "Fire every N seconds instead of a cron expression." },
    timezone: { type: "string", minLength: 1, maxLength: 64, description: "IANA time zone of the cron expression (default UTC)." },
    enabled: { type: "boolean" },
    allowOverlap: { type: "boolean", description: "Queue a scheduled run even while one is queued or running." },
    catchUp: { type: "integer", minimum: 0, maximum: 100, description: "Runs fired at start for fires missed while the daemon was down." },
    reset: { type: "boolean", description: "Return to the file's schedule." },
  },
  { required: [] },
);

export const DependsView = object({
  pipeline: { type: "string" },
  dependsOn: StringList,
  source: { type: "string", enum: ["meta", "cli"] },
  metaDependsOn: StringList,
  dependents: StringList,
  missing: StringList,
});

export const DependsRequest = object(
  {
    dependsOn: { type: "array", maxItems: 1000, items: { type: "string", maxLength: 64 } },
    reset: { type: "boolean" },
  },
  { required: [] },
);

export const DagNode = object({
  name: { type: "string" },
  dependsOn: StringList,
  schedule: nullable("string"),
  lastStatus: { type: ["string", "null"], enum: ["queued", "running", "succeeded", "failed", "skipped", "cancelled", null] },
});

export const DagView = object({
  nodes: { type: "array", items: DagNode },
  edges: { type: "array", items: object({ from: { type: "string" }, to: { type: "string" } }) },
  groups: { type: "array", items: StringList },
  missing: StringList,
});

export const DagTextView = object({ format: { type: "string", enum: ["mermaid", "dot"] }, text: { type: "string" } });

export const GraphRunRequest = object(
  {
    from: { type: "string", minLength: 1, maxLength: 64, description: "Run this pipeline and everything downstream of it." },
    wait: { type: "boolean", default: false },
    waitMs: { type: "integer", minimum: 0, maximum: 86_400_000, description: "Bound on wait; default 3,600,000 (1 h)." },
  },
  { required: [] },
);

export const GraphRunEntry = object({
  pipeline: { type: "string" },
  group: { type: "integer" },
  status: { type: "string", enum: ["pending", "queued", "running", "succeeded", "failed", "skipped", "cancelled"] },
  runId: nullable("string"),
  queuedAt: TimeOrNull,
  startedAt: TimeOrNull,
  finishedAt: TimeOrNull,
  error: { anyOf: [RunError, { type: "null" }] },
});

export const GraphRunView = object({
  id: { type: "string" },
  root: nullable("string"),
  status: { type: "string", enum: ["running", "succeeded", "failed"] },
  startedAt: Time,
  finishedAt: TimeOrNull,
  durationMs: nullable("integer"),
  groups: { type: "array", items: StringList },
  runs: { type: "array", items: GraphRunEntry },
});

/** Schemas listed under components.schemas in the OpenAPI document, by name. */
export const COMPONENTS: Record<string, Schema> = {
  ScheduleFireView,
  ScheduleView,
  ScheduleRequest,
  DependsView,
  DependsRequest,
  DagNode,
  DagView,
  DagTextView,
  GraphRunRequest,
  GraphRunEntry,
  GraphRunView,
  ErrorResponse,
  ErrorBody,
  RunError,
  StepView,
  LogLine,
  RunSummary,
  RunView,
  PipelineVersionView,
  PipelineView,
  PipelineDetailView,
  DeployRequest,
  DeployResponse,
  RunRequest,
  RollbackRequest,
  RollbackResponse,
  CodeView,
  ExecutorStatus,
  StatusView,
  VersionView,
  RunEvent,
  EventPage,
  WsClientMessage,
  WsServerMessage,
};
