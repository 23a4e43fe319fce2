/**
 * The scheduler wired to the daemon: the store adapter (schedules on pipeline rows), the fire target
 * (RunService.enqueue with trigger "schedule", after the overlap check), and what `tau schedule` reads and
 * changes.
 */
import { TauError, type RunTrigger, type ScheduleRequest, type ScheduleView } from "../contract";
import type { Logger } from "../log";
import { DEFAULT_CATCH_UP, effectiveSchedule, isoOrNull, type PipelineRow, type ScheduleChange, type ScheduleRecord, type Store, type StoredSchedule } from "../store";
import type { Clock } from "./clock";
import { Scheduler, type FireOutcome, type ScheduleEntry, type SchedulerStats } from "./scheduler";
import { DEFAULT_TIMEZONE, specProblem, type ScheduleSpec } from "./spec";

/** What firing needs of the RunService. */
export interface ScheduleRunsPort {
  enqueue(tenantId: string, pipeline: string, request: { params: Record<string, unknown>; trigger: RunTrigger }): Promise<{ id: string }>;
}

export interface ScheduleServiceOptions {
  store: Store;
  runs: ScheduleRunsPort;
  clock: Clock;
  log: Logger;
}

export const MAX_CATCH_UP = 100;

export class ScheduleService {
  readonly scheduler: Scheduler;

  constructor(private readonly options: ScheduleServiceOptions) {
    const { store, runs, clock, log } = options;
    this.scheduler = new Scheduler({
      clock,
      log,
      store: {
        loadAll: async () => (await store.schedules.loadAll()).map(toEntry),
        load: async (tenantId, pipeline) => {
          const record = await store.schedules.load(tenantId, pipeline);
          return record && toEntry(record);
        },
        save: (updates) => store.schedules.save(updates),
      },
      target: {
        fire: async (entry: ScheduleEntry): Promise<FireOutcome> => {
          if (!entry.allowOverlap) {
            const active = await store.schedules.activeRun(entry.pipelineId);
            if (active) return { skipped: "overlap", details: { runId: active } };
          }
          try {
            return { runId: (await runs.enqueue(entry.tenantId, entry.pipeline, { params: {}, trigger: "schedule" })).id };
          } catch (err) {
            if (err instanceof TauError) return { skipped: err.code, details: { message: err.message } };
            throw err;
          }
        },
      },
    });
  }

  start(): Promise<void> {
    return this.scheduler.start();
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  /** Re-plans one pipeline after its schedule may have changed (a deploy). Never throws. */
  async refresh(tenantId: string, pipeline: string): Promise<void> {
    try {
      await this.scheduler.refresh(tenantId, pipeline);
    } catch (err) {
      this.options.log.error({ err, tenant: tenantId, pipeline }, "scheduler: could not re-plan a pipeline");
    }
  }

  stats(): SchedulerStats {
    return this.scheduler.stats();
  }

  async view(tenantId: string, name: string): Promise<ScheduleView> {
    const pipeline = await this.options.store.pipelines.findByName(tenantId, name);
    if (!pipeline) throw notFound(name);
    return scheduleView(pipeline);
  }

  /** Applies `tau schedule`'s change, re-plans the pipeline and answers with its schedule. */
  async change(tenantId: string, name: string, request: ScheduleRequest): Promise<ScheduleView> {
    const { store } = this.options;
    const pipeline = await store.pipelines.findByName(tenantId, name);
    if (!pipeline) throw notFound(name);
    const change = compileChange(pipeline, request);
    await store.schedules.change(tenantId, name, change);
    await this.scheduler.refresh(tenantId, name);
    return this.view(tenantId, name);
  }
}

/** Validates a schedule request against the pipeline's current schedule; TAU_E_SCHEDULE_INVALID naming the field. */
function compileChange(pipeline: PipelineRow, r: ScheduleRequest): ScheduleChange {
  const given = Object.entries(r).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (given.length === 0) throw invalid("request", "Nothing to change: give a cron expression, every, timezone, enabled, allowOverlap, catchUp or reset.");
  if (r.reset && (r.cron !== undefined || r.everySec !== undefined || r.timezone !== undefined)) {
    throw invalid("reset", "reset returns to the file's schedule; it cannot be combined with a cron expression, every or timezone.");
  }
  if (r.cron !== undefined && r.everySec !== undefined) throw invalid("schedule", "Give a cron expression or every SECONDS, not both.");
  if (r.catchUp !== undefined && (!Number.isInteger(r.catchUp) || r.catchUp < 0 || r.catchUp > MAX_CATCH_UP)) {
    throw invalid("catchUp", `catchUp must be a whole number from 0 to ${MAX_CATCH_UP}.`);
  }
  const current = effectiveSchedule(pipeline);
  let override: StoredSchedule | null | undefined;
  if (r.reset) override = null;
  else if (r.everySec !== undefined) {
    if (r.timezone !== undefined) throw invalid("timezone", "A time zone applies to a cron expression, not to every SECONDS.");
    override = { cron: null, everySec: r.everySec, timezone: null };
  } else if (r.cron !== undefined || r.timezone !== undefined) {
    const cron = r.cron?.trim() ?? current?.cron ?? null;
    if (cron === null) throw invalid("timezone", `Pipeline '${pipeline.name}' has no cron schedule for a time zone to apply to: give one with it.`);
    override = { cron, everySec: null, timezone: r.timezone ?? current?.timezone ?? null };
  }
  if (override) {
    const problem = specProblem(toSpec(override));
    if (problem) throw invalid(problem.field, problem.message);
  }
  return { override, enabled: r.enabled, allowOverlap: r.allowOverlap, catchUp: r.catchUp };
}

export function scheduleView(p: PipelineRow): ScheduleView {
  const spec = effectiveSchedule(p);
  const fire = p.lastFire;
  return {
    pipeline: p.name,
    cron: spec?.cron ?? null,
    everySec: spec?.everySec ?? null,
    timezone: spec?.cron ? (spec.timezone ?? DEFAULT_TIMEZONE) : null,
    source: p.scheduleOverride ? "cli" : p.schedule !== null ? "meta" : "none",
    metaSchedule: p.schedule,
    enabled: p.enabled,
    allowOverlap: p.allowOverlap ?? false,
    catchUp: p.catchUp ?? DEFAULT_CATCH_UP,
    nextRunAt: spec && p.enabled ? isoOrNull(p.nextRunAt) : null,
    lastFire: fire
      ? { plannedAt: new Date(fire.plannedAt).toISOString(), firedAt: new Date(fire.firedAt).toISOString(), runId: fire.runId, skipped: fire.skipped, catchUp: fire.catchUp }
      : null,
  };
}

function toSpec(s: StoredSchedule): ScheduleSpec {
  return { cron: s.cron, everySec: s.everySec, timezone: s.timezone ?? DEFAULT_TIMEZONE };
}

function toEntry(r: ScheduleRecord): ScheduleEntry {
  return {
    tenantId: r.tenantId,
    pipelineId: r.pipelineId,
    pipeline: r.pipeline,
    spec: toSpec(r.schedule),
    enabled: r.enabled,
    allowOverlap: r.allowOverlap,
    catchUp: r.catchUp,
    nextRunAt: r.nextRunAt,
  };
}

function invalid(field: string, message: string): TauError {
  return new TauError("TAU_E_SCHEDULE_INVALID", message, { field });
}

function notFound(name: string): TauError {
  return new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
}
