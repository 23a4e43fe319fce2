/**
 * Schedule and DAG state on the pipeline row (docs/scheduling.md): what the scheduler loads and persists,
 * the overrides set by `tau schedule` and `tau depends`, and the rule that decides which wins over the
 * file's meta. Loading and saving use raw statements (sql.ts): the scheduler reads every scheduled pipeline at
 * start and writes one row per fire, which at 10,000 pipelines is no job for the unit of work.
 */
import { TauError } from "../contract";
import type { Database } from "./database";
import { bool, sql } from "./sql";
import { PipelineEntity, type PipelineRow, type StoredLastFire, type StoredSchedule } from "./entities";

/** A scheduled pipeline as the scheduler needs it. */
export interface ScheduleRecord {
  tenantId: string;
  pipelineId: number;
  pipeline: string;
  schedule: StoredSchedule;
  enabled: boolean;
  allowOverlap: boolean;
  catchUp: number;
  nextRunAt: number | null;
}

export interface ScheduleSave {
  pipelineId: number;
  nextRunAt: number | null;
  lastFire?: StoredLastFire;
}

/** A change made by `tau schedule`; absent fields stay as they are. */
export interface ScheduleChange {
  /** A new override; null returns to the meta's schedule. */
  override?: StoredSchedule | null;
  enabled?: boolean;
  allowOverlap?: boolean;
  catchUp?: number;
}

export const DEFAULT_CATCH_UP = 1;

/** The schedule in effect: `tau schedule`'s override, else the meta's cron in the meta's time zone (unset: UTC). */
export function effectiveSchedule(row: Pick<PipelineRow, "schedule" | "scheduleTimezone" | "scheduleOverride">): StoredSchedule | null {
  if (row.scheduleOverride) return row.scheduleOverride;
  return row.schedule === null ? null : { cron: row.schedule, everySec: null, timezone: row.scheduleTimezone ?? null };
}

/** The dependencies in effect: `tau depends`'s override, else the meta's. */
export function effectiveDependsOn(row: Pick<PipelineRow, "dependsOn" | "dependsOnOverride">): string[] {
  return row.dependsOnOverride ?? row.dependsOn;
}

/**
 * What a deploy (or rollback) that brings `meta` must reset: an override stays only while the file's value
 * it overrode is unchanged — deploying a file whose `schedule` (or `dependsOn`) changed applies the file's.
 * A changed schedule also drops the planned fire, which the scheduler plans afresh.
 */
export function overridesAfterDeploy(
  row: Pick<PipelineRow, "schedule" | "scheduleTimezone" | "dependsOn">,
  meta: { schedule: string | null; timezone?: string | null; dependsOn: string[] },
): Partial<Pick<PipelineRow, "scheduleOverride" | "nextRunAt" | "dependsOnOverride">> {
  const patch: Partial<Pick<PipelineRow, "scheduleOverride" | "nextRunAt" | "dependsOnOverride">> = {};
  if (row.schedule !== meta.schedule || (row.scheduleTimezone ?? null) !== (meta.timezone ?? null)) {
    Object.assign(patch, { scheduleOverride: null, nextRunAt: null });
  }
  if (JSON.stringify(row.dependsOn) !== JSON.stringify(meta.dependsOn)) patch.dependsOnOverride = null;
  return patch;
}

interface ScheduleDbRow {
  id: number;
  tenant_id: string;
  name: string;
  schedule: string | null;
  schedule_timezone: string | null;
  schedule_override: string | null;
  enabled: number | boolean;
  allow_overlap: number | boolean | null;
  catch_up: number | null;
  next_run_at: number | null;
}

const SCHEDULED = `select id, tenant_id, name, schedule, schedule_timezone, schedule_override, enabled, allow_overlap, catch_up, next_run_at from pipeline
  where (schedule is not null or schedule_override is not null)`;

const S = {
  all: sql(SCHEDULED),
  one: sql(`${SCHEDULED} and tenant_id = ? and name = ?`),
  active: sql("select id from run where pipeline_id = ? and status in ('queued', 'running') order by id limit 1"),
  save: sql("update pipeline set next_run_at = ? where id = ?"),
  saveFire: sql("update pipeline set next_run_at = ?, last_fire = ? where id = ?"),
};

export class ScheduleRepository {
  constructor(private readonly db: Database) {}

  /** Every pipeline with a schedule (enabled or not), all tenants. */
  loadAll(): Promise<ScheduleRecord[]> {
    return this.db.read("load schedules", async (c) => (await c.all<ScheduleDbRow>(S.all)).map(toRecord).filter((r) => r !== null));
  }

  load(tenantId: string, name: string): Promise<ScheduleRecord | null> {
    return this.db.read("load schedule", async (c) => toRecord((await c.get<ScheduleDbRow>(S.one, tenantId, name)) ?? null));
  }

  /** Planned next fires and last fires, one transaction. */
  async save(updates: readonly ScheduleSave[]): Promise<void> {
    await this.db.write("save schedules", async (c) => {
      for (const u of updates) {
        if (u.lastFire) await c.run(S.saveFire, u.nextRunAt, JSON.stringify(u.lastFire), u.pipelineId);
        else await c.run(S.save, u.nextRunAt, u.pipelineId);
      }
    });
  }

  /** A queued or running run of the pipeline (the oldest), or null. */
  activeRun(pipelineId: number): Promise<string | null> {
    return this.db.read("active run", async (c) => (await c.get<{ id: string }>(S.active, pipelineId))?.id ?? null);
  }

  /**
   * Applies `tau schedule`'s change. Whatever changes when or whether the schedule fires drops the planned
   * fire, so the scheduler plans afresh from now (re-enabling never fires for the time spent disabled).
   */
  async change(tenantId: string, name: string, change: ScheduleChange): Promise<PipelineRow> {
    return this.db.transaction("change schedule", async (em) => {
      const pipeline = await em.findOne(PipelineEntity, { tenantId, name });
      if (!pipeline) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
      const patch: Partial<PipelineRow> = { updatedAt: Date.now() };
      if (change.override !== undefined) Object.assign(patch, { scheduleOverride: change.override, nextRunAt: null });
      if (change.enabled !== undefined && change.enabled !== pipeline.enabled) Object.assign(patch, { enabled: change.enabled, nextRunAt: null });
      if (change.allowOverlap !== undefined) patch.allowOverlap = change.allowOverlap;
      if (change.catchUp !== undefined) patch.catchUp = change.catchUp;
      em.assign(pipeline, patch);
      await em.flush();
      return pipeline;
    });
  }

  /** Sets (or, with null, removes) `tau depends`'s override. */
  async setDependsOn(tenantId: string, name: string, dependsOn: string[] | null): Promise<PipelineRow> {
    return this.db.transaction("set dependencies", async (em) => {
      const pipeline = await em.findOne(PipelineEntity, { tenantId, name });
      if (!pipeline) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
      em.assign(pipeline, { dependsOnOverride: dependsOn, updatedAt: Date.now() });
      await em.flush();
      return pipeline;
    });
  }
}

function toRecord(row: ScheduleDbRow | null): ScheduleRecord | null {
  if (!row) return null;
  const override = row.schedule_override === null ? null : (JSON.parse(row.schedule_override) as StoredSchedule | null);
  const schedule = effectiveSchedule({ schedule: row.schedule, scheduleTimezone: row.schedule_timezone, scheduleOverride: override });
  if (!schedule) return null;
  return {
    tenantId: row.tenant_id,
    pipelineId: row.id,
    pipeline: row.name,
    schedule,
    enabled: bool(row.enabled),
    allowOverlap: bool(row.allow_overlap),
    catchUp: row.catch_up ?? DEFAULT_CATCH_UP,
    nextRunAt: row.next_run_at,
  };
}
