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
import { iso, isoOrNull, type PipelineRow, type RunRecord, type StepRecord, type VersionInfo } from "./store";

export function runSummaryView(run: RunRecord): RunSummary {
  return {
    id: run.id,
    pipeline: run.pipeline.name,
    version: run.version,
    status: run.status,
    trigger: run.trigger,
    params: run.params,
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
    schedule: pipeline.schedule,
    enabled: pipeline.enabled,
    dependsOn: pipeline.dependsOn,
    timeoutSec: pipeline.timeoutSec,
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
