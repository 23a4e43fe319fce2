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
  enabled: { type: "boolean" },
  dependsOn: StringList,
  timeoutSec: nullable("integer"),
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
  home: { type: "string" },
  pid: { type: "integer" },
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

export const WsClientMessage = {
  description: "Client → server over the WebSocket at /api/events.",
  oneOf: [
    object({ type: { const: "subscribe" }, runId: { type: "string" }, afterSeq: { type: "integer", minimum: 0 } }, { required: ["type", "runId"] }),
    object({ type: { const: "subscribe" }, pipeline: { type: "string" }, afterSeq: { type: "integer", minimum: 0 } }, { required: ["type", "pipeline"] }),
    object({ type: { const: "unsubscribe" }, runId: { type: "string" }, pipeline: { type: "string" } }, { required: ["type"] }),
  ],
};

export const WsServerMessage = {
  description:
    "Server → client. After a subscribe, stored events after afterSeq are replayed, then `subscribed` marks the switch to live: every matching event with seq ≤ lastSeq has been sent.",
  oneOf: [
    object({ type: { const: "event" }, event: RunEvent }),
    object({ type: { const: "subscribed" }, runId: { type: "string" }, pipeline: { type: "string" }, lastSeq: { type: "integer" } }, { required: ["type", "lastSeq"] }),
    object({ type: { const: "error" }, error: object({ code: ErrorCode, message: { type: "string" }, hint: { type: "string" } }) }),
  ],
};

/** Schemas listed under components.schemas in the OpenAPI document, by name. */
export const COMPONENTS: Record<string, Schema> = {
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
  CodeView,
  ExecutorStatus,
  StatusView,
  VersionView,
  RunEvent,
  EventPage,
  WsClientMessage,
  WsServerMessage,
};
