/**
 * Rows → API views (server/contract/api.ts). Keys are written in the contract's order, times as ISO-8601
 * UTC, so the same state always serialises to the same bytes.
 */
import type {
  LogLine,
  PipelineDetailView,
  PipelineVersionView,
  PipelineView,
  RunSummary,
  RunView,
  StepView,
} from "./contract";
import { effectiveDependsOn, effectiveSchedule, iso, isoOrNull, type PipelineRow, type RunRecord, type StepRecord, type VersionInfo } from "./store";

export function runSummaryView(run: RunRecord): RunSummary {
  return {
    id: run.id,
    pipeline: run.pipeline.name,
    version: run.version,
    status: run.status,
    trigger: run.trigger,
    params: run.params,
    attempt: run.attempt ?? 1,
    maxAttempts: run.maxAttempts ?? 1,
    retryOf: run.retryOf ?? null,
    retriedBy: run.retriedBy ?? null,
    notBefore: isoOrNull(run.notBefore ?? null),
    graphRunId: run.graphRunId ?? null,
    queuedAt: iso(run.queuedAt),
    startedAt: isoOrNull(run.startedAt),
    finishedAt: isoOrNull(run.finishedAt),
    durationMs: run.startedAt !== null && run.finishedAt !== null ? Math.max(0, run.finishedAt - run.startedAt) : null,
    result: run.result ?? null,
    error: run.error ?? null,
  };
}

export function runView(run: RunRecord, steps: readonly StepRecord[], logs: LogLine[]): RunView {
  const s = runSummaryView(run);
  return {
    id: s.id,
    pipeline: s.pipeline,
    version: s.version,
    status: s.status,
    trigger: s.trigger,
    params: s.params,
    attempt: s.attempt,
    maxAttempts: s.maxAttempts,
    retryOf: s.retryOf,
    retriedBy: s.retriedBy,
    notBefore: s.notBefore,
    graphRunId: s.graphRunId,
    queuedAt: s.queuedAt,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    durationMs: s.durationMs,
    steps: steps.map(stepView),
    result: s.result,
    error: s.error,
    logs,
  };
}

export function stepView(step: StepRecord): StepView {
  return {
    name: step.name,
    status: step.status,
    startedAt: iso(step.startedAt),
    finishedAt: isoOrNull(step.finishedAt),
    durationMs: step.durationMs,
    rowsIn: step.rowsIn,
    rowsOut: step.rowsOut,
    meta: step.meta,
    error: step.error,
  };
}

export function pipelineView(pipeline: PipelineRow, lastRun: RunRecord | null | undefined): PipelineView {
  return {
    name: pipeline.name,
    description: pipeline.description,
    tags: pipeline.tags,
    ...scheduleFields(pipeline),
    dependsOn: effectiveDependsOn(pipeline),
    timeoutSec: pipeline.timeoutSec,
    retries: pipeline.retries ?? 0,
    retryDelaySec: pipeline.retryDelaySec ?? 10,
    maxConcurrentRuns: pipeline.maxConcurrentRuns ?? 1,
    currentVersion: pipeline.currentVersion,
    filename: pipeline.filename,
    createdAt: iso(pipeline.createdAt),
    updatedAt: iso(pipeline.updatedAt),
    lastRun: lastRun ? runSummaryView(lastRun) : null,
  };
}

export function pipelineDetailView(pipeline: PipelineRow, lastRun: RunRecord | null, versions: readonly VersionInfo[]): PipelineDetailView {
  return { ...pipelineView(pipeline, lastRun), versions: versions.map(versionView) };
}

export function versionView(version: VersionInfo): PipelineVersionView {
  return {
    version: version.version,
    hash: version.hash,
    createdAt: iso(version.createdAt),
    sourceBytes: version.sourceBytes,
    filename: version.filename,
  };
}

/** The schedule in effect as the pipeline view shows it (docs/scheduling.md). */
export function scheduleFields(
  pipeline: Pick<PipelineRow, "schedule" | "scheduleTimezone" | "scheduleOverride" | "enabled" | "nextRunAt">,
): Pick<PipelineView, "schedule" | "enabled" | "everySec" | "timezone" | "nextRunAt"> {
  const spec = effectiveSchedule(pipeline);
  return {
    schedule: spec?.cron ?? null,
    enabled: pipeline.enabled,
    everySec: spec?.everySec ?? null,
    timezone: spec?.cron ? (spec.timezone ?? "UTC") : null,
    nextRunAt: spec && pipeline.enabled ? isoOrNull(pipeline.nextRunAt) : null,
  };
}
