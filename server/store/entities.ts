/**
 * The store's tables, as mikro-orm `EntitySchema`s (no decorators: esbuild emits no metadata).
 *
 * Conventions: every row carries `tenantId` (local mode: "local"); times are integer milliseconds since the
 * epoch (converted to ISO-8601 UTC only at the API edge); JSON columns hold plain data. Column names follow
 * mikro-orm's default naming (`tenantId` → `tenant_id`, relation `pipeline` → `pipeline_id`); the raw
 * statements of the hot path (runs.ts, events.ts) rely on those names. Column types come from
 * column-types.ts where sqlite and PostgreSQL need different ones (int8 times, json kept as written).
 *
 * A change here is a schema change: run `npm run migration:create -- NAME` (docs/hosted.md, "Store").
 */
import { EntitySchema } from "@mikro-orm/core";
import type { LogLevel, RunError, RunEventKind, RunStatus, RunTrigger, StepStatus, ErrorCode } from "../contract";
import type { PipelineMeta } from "../../sandbox/types";
import { int64, json } from "./column-types";
import { TenantPolicyEntity, TenantSecretEntity } from "./tenant-entities";

export interface TenantRow {
  id: string;
  name: string;
  createdAt: number;
}

export interface PipelineRow {
  id: number;
  tenantId: string;
  name: string;
  currentVersion: number;
  filename: string;
  description: string;
  schedule: string | null;
  enabled: boolean;
  tags: string[];
  dependsOn: string[];
  timeoutSec: number | null;
  /** Run control, mirrored from the current version's meta (like the fields above). */
  retries: number;
  retryDelaySec: number;
  maxConcurrentRuns: number;
  createdAt: number;
  updatedAt: number;
  // ── schedule and DAG state (server/scheduler, server/dag; docs/scheduling.md) ──
  /** The meta's `timezone` (its `schedule` is the column above); null: UTC. */
  scheduleTimezone: string | null;
  /** Set by `tau schedule`: wins over the meta's `schedule` until a deploy changes the meta's schedule. */
  scheduleOverride: StoredSchedule | null;
  /** The schedule's planned next fire (ms); null when unscheduled, disabled or not planned yet. */
  nextRunAt: number | null;
  /** What the schedule's last fire did. */
  lastFire: StoredLastFire | null;
  /** Set by `tau depends`: wins over the meta's `dependsOn` until a deploy changes the meta's dependsOn. */
  dependsOnOverride: string[] | null;
  /** Scheduled fires queue a run even while one is queued or running (null: false). */
  allowOverlap: boolean | null;
  /** Catch-up runs for fires missed while the daemon was down (null: 1). */
  catchUp: number | null;
}

/** A schedule as stored: a cron expression in a time zone, or an interval in seconds. */
export interface StoredSchedule {
  cron: string | null;
  everySec: number | null;
  timezone: string | null;
}

export interface StoredLastFire {
  plannedAt: number;
  firedAt: number;
  runId: string | null;
  skipped: string | null;
  catchUp: boolean;
}

/** A run of the pipeline graph (`tau dag run`): its runs carry its id in `run.graph_run_id`. */
export interface GraphRunRow {
  id: string;
  tenantId: string;
  /** `--from` pipeline, or null for the whole graph. */
  root: string | null;
  status: "running" | "succeeded" | "failed";
  /** The pipelines of the run by topological level, as planned at start. */
  groups: string[][];
  startedAt: number;
  finishedAt: number | null;
}

/** Immutable once written: a deploy that changes anything writes a new version. */
export interface PipelineVersionRow {
  id: number;
  tenantId: string;
  pipeline: PipelineRow;
  version: number;
  hash: string;
  source: string;
  bundle: string;
  sourceMap: string;
  sourceBytes: number;
  filename: string;
  /** The meta the sandbox described for this bundle, after overrides (name, schedule). */
  meta: PipelineMeta;
  createdAt: number;
}

export interface RunRow {
  id: string;
  tenantId: string;
  pipeline: PipelineRow;
  version: number;
  status: RunStatus;
  trigger: RunTrigger;
  params: Record<string, unknown>;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  result: unknown;
  error: RunError | null;
  /** Which process ran it (`taud:<pid>` locally; a worker id in hosted mode). */
  executor: string | null;
  /** 1-based; a retry is a new run row with the next attempt number. */
  attempt: number;
  maxAttempts: number;
  /** The run this one retries. */
  retryOf: string | null;
  /** The run that retries this one. */
  retriedBy: string | null;
  /** A queued retry does not start before this time (ms). */
  notBefore: number | null;
  /** The graph run (`tau dag run`) this run belongs to. */
  graphRunId: string | null;
}

export interface StepRow {
  id: number;
  tenantId: string;
  run: RunRow;
  /** Order of the step's start within its run (0-based); names may repeat. */
  position: number;
  name: string;
  status: StepStatus;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  meta: Record<string, unknown>;
  error: { code: ErrorCode; message: string } | null;
}

/** No foreign keys here: the event table is an append-only log written on the hot path. */
export interface EventRow {
  /** AUTOINCREMENT: the daemon-wide, strictly increasing event sequence. */
  seq: number;
  tenantId: string;
  runId: string;
  /** The pipeline's name, denormalised so that subscriptions by pipeline need no join. */
  pipeline: string;
  ts: number;
  kind: RunEventKind;
  level: LogLevel | null;
  step: string | null;
  message: string | null;
  data: Record<string, unknown> | null;
}

// `tenantId` is the tenant's primary key (mapToPk), with a real foreign key to the tenant table. Foreign
// keys get no index of their own: each leads a composite index or unique below, and every extra index is
// one more b-tree written per run state change.
const tenantRef = { kind: "m:1", entity: "Tenant", mapToPk: true, fieldName: "tenant_id", index: false } as const;

export const TenantEntity = new EntitySchema<TenantRow>({
  name: "Tenant",
  tableName: "tenant",
  properties: {
    id: { type: "string", primary: true, length: 64 },
    name: { type: "string" },
    createdAt: { ...int64 },
  },
});

export const PipelineEntity = new EntitySchema<PipelineRow>({
  name: "Pipeline",
  tableName: "pipeline",
  uniques: [{ properties: ["tenantId", "name"] }],
  properties: {
    id: { type: "integer", primary: true, autoincrement: true },
    tenantId: tenantRef,
    name: { type: "string", length: 64 },
    currentVersion: { type: "integer" },
    filename: { type: "text" },
    description: { type: "text" },
    schedule: { type: "string", nullable: true },
    enabled: { type: "boolean" },
    tags: { ...json },
    dependsOn: { ...json },
    timeoutSec: { type: "integer", nullable: true },
    retries: { type: "integer", default: 0 },
    retryDelaySec: { type: "double", default: 10 },
    maxConcurrentRuns: { type: "integer", default: 1 },
    createdAt: { ...int64 },
    updatedAt: { ...int64 },
    scheduleTimezone: { type: "string", length: 64, nullable: true },
    scheduleOverride: { ...json, nullable: true },
    nextRunAt: { ...int64, nullable: true },
    lastFire: { ...json, nullable: true },
    dependsOnOverride: { ...json, nullable: true },
    allowOverlap: { type: "boolean", nullable: true },
    catchUp: { type: "integer", nullable: true },
  },
});

export const PipelineVersionEntity = new EntitySchema<PipelineVersionRow>({
  name: "PipelineVersion",
  tableName: "pipeline_version",
  uniques: [{ properties: ["pipeline", "version"] }],
  properties: {
    id: { type: "integer", primary: true, autoincrement: true },
    tenantId: tenantRef,
    pipeline: { kind: "m:1", entity: () => PipelineEntity, index: false },
    version: { type: "integer" },
    hash: { type: "string", length: 64 },
    // Large texts are read only for runs and `code`; keep them out of listings.
    source: { type: "text", lazy: true },
    bundle: { type: "text", lazy: true },
    sourceMap: { type: "text", lazy: true },
    sourceBytes: { type: "integer" },
    filename: { type: "text" },
    meta: { ...json },
    createdAt: { ...int64 },
  },
});

export const RunEntity = new EntitySchema<RunRow>({
  name: "Run",
  tableName: "run",
  indexes: [
    { properties: ["pipeline", "id"] },
    { properties: ["pipeline", "status", "finishedAt"] },
    { properties: ["tenantId", "status", "finishedAt"] },
    { properties: ["graphRunId"] },
  ],
  properties: {
    id: { type: "string", primary: true, length: 32 },
    tenantId: tenantRef,
    pipeline: { kind: "m:1", entity: () => PipelineEntity, index: false },
    version: { type: "integer" },
    status: { type: "string", length: 16 },
    trigger: { type: "string", length: 16 },
    params: { ...json },
    queuedAt: { ...int64 },
    startedAt: { ...int64, nullable: true },
    finishedAt: { ...int64, nullable: true },
    result: { ...json, nullable: true },
    error: { ...json, nullable: true },
    executor: { type: "string", nullable: true },
    attempt: { type: "integer", default: 1 },
    maxAttempts: { type: "integer", default: 1 },
    retryOf: { type: "string", length: 32, nullable: true },
    retriedBy: { type: "string", length: 32, nullable: true },
    notBefore: { ...int64, nullable: true },
    graphRunId: { type: "string", length: 32, nullable: true },
  },
});

export const StepEntity = new EntitySchema<StepRow>({
  name: "Step",
  tableName: "step",
  uniques: [{ properties: ["run", "position"] }],
  properties: {
    id: { ...int64, primary: true, autoincrement: true },
    tenantId: tenantRef,
    run: { kind: "m:1", entity: () => RunEntity, index: false },
    position: { type: "integer" },
    name: { type: "string" },
    status: { type: "string", length: 16 },
    startedAt: { ...int64 },
    finishedAt: { ...int64, nullable: true },
    durationMs: { ...int64, nullable: true },
    rowsIn: { ...int64, nullable: true },
    rowsOut: { ...int64, nullable: true },
    meta: { ...json },
    error: { ...json, nullable: true },
  },
});

export const EventEntity = new EntitySchema<EventRow>({
  name: "Event",
  tableName: "event",
  indexes: [{ properties: ["runId", "seq"] }, { properties: ["pipeline", "seq"] }],
  properties: {
    seq: { ...int64, primary: true, autoincrement: true },
    tenantId: { type: "string", length: 64 },
    runId: { type: "string", length: 32 },
    pipeline: { type: "string", length: 64 },
    ts: { ...int64 },
    kind: { type: "string", length: 16 },
    level: { type: "string", length: 8, nullable: true },
    step: { type: "string", nullable: true },
    message: { type: "text", nullable: true },
    data: { ...json, nullable: true },
  },
});

export const GraphRunEntity = new EntitySchema<GraphRunRow>({
  name: "GraphRun",
  tableName: "graph_run",
  indexes: [{ properties: ["tenantId", "status"] }],
  properties: {
    id: { type: "string", primary: true, length: 32 },
    tenantId: tenantRef,
    root: { type: "string", length: 64, nullable: true },
    status: { type: "string", length: 16 },
    groups: { ...json },
    startedAt: { ...int64 },
    finishedAt: { ...int64, nullable: true },
  },
});

export const ENTITIES = [TenantEntity, PipelineEntity, PipelineVersionEntity, RunEntity, StepEntity, EventEntity, GraphRunEntity, TenantPolicyEntity, TenantSecretEntity];
