/**
 * JSON Schemas of the API's core views: errors, runs, pipelines, deploys, the daemon's status and the event
 * stream. They mirror api.ts; property order here is the order of keys on the wire. schemas-base.ts says
 * which keywords they may use and why.
 */
import {
  AnyJson,
  Count,
  CountOrNull,
  Dict,
  ErrorCode,
  LogLevel,
  Name,
  RunStatus,
  RunTrigger,
  StepStatus,
  StringList,
  Time,
  TimeOrNull,
  VersionNumber,
  nullable,
  object,
  orNull,
  type Schema,
} from "./schemas-base";

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
  line: nullable("integer", { minimum: 1, description: "Line in the pipeline file as written (1-based)." }),
  column: nullable("integer", { minimum: 0, description: "Column in that line (0-based)." }),
  details: Dict,
});

export const StepView = object({
  name: Name,
  status: StepStatus,
  startedAt: Time,
  finishedAt: TimeOrNull,
  durationMs: CountOrNull,
  rowsIn: CountOrNull,
  rowsOut: CountOrNull,
  meta: Dict,
  error: {
    type: ["object", "null"],
    properties: { code: ErrorCode, message: { type: "string" } },
    required: ["code", "message"],
    additionalProperties: false,
  },
});

export const LogLine = object({
  seq: Count,
  ts: Time,
  level: LogLevel,
  step: nullable("string"),
  message: { type: "string" },
  fields: { type: ["object", "null"], additionalProperties: true },
});

const runSummaryProperties = {
  id: Name,
  pipeline: Name,
  version: VersionNumber,
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
  durationMs: CountOrNull,
  /** Any JSON the pipeline returned; null until it succeeds. */
  result: AnyJson,
  error: orNull(RunError),
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
  version: VersionNumber,
  hash: Name,
  createdAt: Time,
  sourceBytes: Count,
  filename: { type: "string" },
});

const pipelineViewProperties = {
  name: Name,
  description: { type: "string" },
  tags: StringList,
  schedule: nullable("string"),
  enabled: { type: "boolean", description: "Whether the schedule fires (tau schedule NAME --disable)." },
  everySec: nullable("integer", { minimum: 1, description: "Interval of a `--every N` schedule (then schedule is null)." }),
  timezone: nullable("string", { description: "Time zone of the cron schedule (UTC by default)." }),
  nextRunAt: { ...TimeOrNull, description: "The schedule's next planned fire." },
  dependsOn: StringList,
  // meta.timeoutSec is any positive number of seconds (sandbox/meta.ts), so not "integer": that would round it.
  timeoutSec: nullable("number", { minimum: 0 }),
  retries: Count,
  retryDelaySec: { type: "number", minimum: 0 },
  maxConcurrentRuns: { type: "integer", minimum: 1 },
  currentVersion: VersionNumber,
  filename: { type: "string" },
  createdAt: Time,
  updatedAt: Time,
  lastRun: orNull(RunSummary),
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
  version: VersionNumber,
  hash: Name,
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
  from: VersionNumber,
  to: VersionNumber,
  changed: { type: "boolean" },
});

export const CodeView = object({
  name: Name,
  version: VersionNumber,
  hash: Name,
  filename: { type: "string" },
  source: { type: "string" },
});

export const ExecutorStatus = object({
  id: { type: "integer" },
  pid: nullable("integer"),
  state: { type: "string", enum: ["starting", "ready", "dead"] },
  running: Count,
  restarts: Count,
});

export const StatusView = object({
  status: { type: "string", enum: ["ok"] },
  version: { type: "string" },
  mode: { type: "string", enum: ["local", "hosted"] },
  home: nullable("string"),
  pid: nullable("integer", { minimum: 1 }),
  startedAt: Time,
  uptimeMs: Count,
  pipelines: Count,
  runs: object({ queued: Count, running: Count }),
  executors: { type: "array", items: ExecutorStatus },
  runsOn: { type: "string", enum: ["local", "workers"] },
  workers: orNull(object({ active: Count, draining: Count, capacity: Count })),
});

export const VersionView = object({
  name: { type: "string", enum: ["tau"] },
  version: Name,
  apiVersion: Name,
  node: { type: "string" },
});

const EventKind: Schema = { type: "string", enum: ["run.queued", "run.started", "step.started", "step.finished", "log", "run.finished"] };

export const RunEvent = object({
  seq: { type: "integer", minimum: 1 },
  runId: Name,
  pipeline: Name,
  ts: Time,
  kind: EventKind,
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

const EventKinds: Schema = { type: "array", minItems: 1, items: EventKind };

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
