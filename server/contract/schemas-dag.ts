/**
 * JSON Schemas of schedules, dependencies and the DAG (docs/scheduling.md); mirrors api.ts.
 */
import { Count, CountOrNull, Name, RunStatus, StringList, Time, TimeOrNull, nullable, object, orNull } from "./schemas-base";
import { RunError } from "./schemas-runs";

export const ScheduleFireView = object({
  plannedAt: Time,
  firedAt: Time,
  runId: nullable("string"),
  skipped: nullable("string", { description: "Why no run was queued: overlap, or a TAU_E_ code." }),
  catchUp: { type: "boolean" },
});

export const ScheduleView = object({
  pipeline: Name,
  cron: nullable("string"),
  everySec: nullable("integer", { minimum: 1 }),
  timezone: nullable("string"),
  source: { type: "string", enum: ["meta", "cli", "none"] },
  metaSchedule: nullable("string"),
  enabled: { type: "boolean" },
  allowOverlap: { type: "boolean" },
  catchUp: Count,
  nextRunAt: TimeOrNull,
  lastFire: orNull(ScheduleFireView),
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
  pipeline: Name,
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

/** Pipeline names: a DAG level, a node's dependencies, the names nothing defines. */
const Names = { type: "array", items: Name };

export const DagNode = object({
  name: Name,
  dependsOn: Names,
  schedule: nullable("string"),
  lastStatus: { type: ["string", "null"], enum: [...(RunStatus.enum as string[]), null] },
});

export const DagView = object({
  nodes: { type: "array", items: DagNode },
  edges: { type: "array", items: object({ from: { type: "string" }, to: { type: "string" } }) },
  groups: { type: "array", items: Names },
  missing: Names,
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
  pipeline: Name,
  group: Count,
  status: { type: "string", enum: ["pending", ...(RunStatus.enum as string[])] },
  runId: nullable("string"),
  queuedAt: TimeOrNull,
  startedAt: TimeOrNull,
  finishedAt: TimeOrNull,
  error: orNull(RunError),
});

export const GraphRunView = object({
  id: { type: "string", pattern: "^dag_" },
  root: nullable("string"),
  status: { type: "string", enum: ["running", "succeeded", "failed"] },
  startedAt: Time,
  finishedAt: TimeOrNull,
  durationMs: CountOrNull,
  groups: { type: "array", items: Names },
  runs: { type: "array", items: GraphRunEntry },
});
