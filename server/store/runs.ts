/**
 * Reading runs and steps. Listings use the ORM. What every run reads — its status, its pipeline's last
 * success, and the run with its steps that `tau run` answers with — uses raw statements (sql.ts; on SQLite
 * the read connection): through the ORM one RunView took ~3 ms of CPU against ~0.05 ms (measured on this machine),
 * which was most of a run's overhead.
 *
 * Runs are written only by the run ledger (run-ledger.ts); nothing here modifies a run entity, so the ORM's
 * unit of work never writes a stale copy back over the ledger's rows.
 */
import { raw } from "@mikro-orm/core";
import { TERMINAL_RUN_STATUSES, type RunStatus } from "../contract";
import type { Database } from "./database";
import { sql } from "./sql";
import { RunEntity, type RunRow, type StepRow } from "./entities";

/** A run as views need it: the row with its pipeline's name (RunRow from the ORM satisfies it too). */
export type RunRecord = Omit<RunRow, "pipeline" | "tenantId" | "executor"> & { pipeline: { name: string } };
export type StepRecord = Omit<StepRow, "id" | "tenantId" | "run" | "position">;

const S = {
  status: sql("select status from run where id = ? and tenant_id = ?"),
  retriedBy: sql("select status, retried_by from run where id = ? and tenant_id = ?"),
  lastSuccess: sql("select max(finished_at) as at from run where pipeline_id = ? and status = 'succeeded'"),
  run: sql(
    `select r.id, p.name as pipeline, r.version, r.status, r."trigger", r.params, r.queued_at, r.started_at, r.finished_at, r.result, r.error,
       r.attempt, r.max_attempts, r.retry_of, r.retried_by, r.not_before, r.graph_run_id
     from run r join pipeline p on p.id = r.pipeline_id where r.id = ? and r.tenant_id = ?`,
  ),
  steps: sql(
    "select name, status, started_at, finished_at, duration_ms, rows_in, rows_out, meta, error from step where run_id = ? order by position",
  ),
};

interface RunDbRow {
  id: string;
  pipeline: string;
  version: number;
  status: RunRow["status"];
  trigger: RunRow["trigger"];
  params: string;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  error: string | null;
  attempt: number;
  max_attempts: number;
  retry_of: string | null;
  retried_by: string | null;
  not_before: number | null;
  graph_run_id: string | null;
}

interface StepDbRow {
  name: string;
  status: StepRow["status"];
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  rows_in: number | null;
  rows_out: number | null;
  meta: string;
  error: string | null;
}

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export class RunRepository {
  constructor(private readonly db: Database) {}

  /** One run with its pipeline's name (read connection), or null. */
  record(tenantId: string, runId: string): Promise<RunRecord | null> {
    return this.db.read("find run", async (c) => {
      const row = await c.get<RunDbRow>(S.run, runId, tenantId);
      if (!row) return null;
      return {
        id: row.id,
        pipeline: { name: row.pipeline },
        version: row.version,
        status: row.status,
        trigger: row.trigger,
        params: parse<Record<string, unknown>>(row.params) ?? {},
        queuedAt: row.queued_at,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        result: parse<unknown>(row.result),
        error: parse<RunRow["error"]>(row.error),
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        retryOf: row.retry_of,
        retriedBy: row.retried_by,
        notBefore: row.not_before,
        graphRunId: row.graph_run_id,
      };
    });
  }

  /** A run's steps in the order they started (read connection). */
  steps(runId: string): Promise<StepRecord[]> {
    return this.db.read("list steps", async (c) =>
      (await c.all<StepDbRow>(S.steps, runId)).map((row) => ({
        name: row.name,
        status: row.status,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        durationMs: row.duration_ms,
        rowsIn: row.rows_in,
        rowsOut: row.rows_out,
        meta: parse<Record<string, unknown>>(row.meta) ?? {},
        error: parse<StepRow["error"]>(row.error),
      })),
    );
  }

  /** A pipeline's newest runs, newest first (run ids sort by creation). */
  listForPipeline(tenantId: string, pipelineId: number, last: number): Promise<RunRow[]> {
    return this.db.query("list runs", (em) =>
      em.find(RunEntity, { tenantId, pipeline: pipelineId }, { orderBy: { id: "desc" }, limit: last, populate: ["pipeline"] }),
    );
  }

  /** The newest run of every pipeline of a tenant, in one query (no N+1 in listings). */
  latestPerPipeline(tenantId: string): Promise<Map<number, RunRow>> {
    return this.db.query("latest runs", async (em) => {
      const newest = em.createQueryBuilder(RunEntity, "r2").select(raw("max(r2.id)")).where({ tenantId }).groupBy("r2.pipeline");
      const runs = await em
        .createQueryBuilder(RunEntity, "r")
        .select("*")
        .leftJoinAndSelect("r.pipeline", "p")
        .where({ id: { $in: newest.getKnexQuery() } })
        .getResultList();
      return new Map(runs.map((run) => [run.pipeline.id, run]));
    });
  }

  /** A tenant's failed runs (of one pipeline when `pipelineId` is given), most recently finished first. */
  recentFailed(tenantId: string, limit: number, pipelineId?: number): Promise<RunRow[]> {
    const where = pipelineId === undefined ? { tenantId, status: "failed" as const } : { tenantId, status: "failed" as const, pipeline: pipelineId };
    return this.db.query("list failed runs", (em) =>
      em.find(RunEntity, where, { orderBy: { finishedAt: "desc", id: "desc" }, limit, populate: ["pipeline"] }),
    );
  }

  /** Runs of any tenant that are queued or running: after a restart, those were interrupted. */
  unfinished(): Promise<RunRow[]> {
    return this.db.query("list unfinished runs", (em) =>
      em.find(RunEntity, { status: { $in: ["queued", "running"] } }, { orderBy: { id: "asc" }, populate: ["pipeline"] }),
    );
  }

  /** A run's status (read connection), or null when there is no such run. */
  status(tenantId: string, runId: string): Promise<RunStatus | null> {
    return this.db.read("run status", async (c) => (await c.get<{ status: RunStatus }>(S.status, runId, tenantId))?.status ?? null);
  }

  /** The attempt that retries a finished run (read connection); null when none does (yet), or the run is unfinished. */
  retriedBy(tenantId: string, runId: string): Promise<string | null> {
    return this.db.read("run retried by", async (c) => {
      const row = await c.get<{ status: RunStatus; retried_by: string | null }>(S.retriedBy, runId, tenantId);
      return row && TERMINAL_RUN_STATUSES.includes(row.status) ? row.retried_by : null;
    });
  }

  /** The newest attempt of a run: `runId` itself, or the last retry in its `retriedBy` chain. */
  async newestAttempt(tenantId: string, runId: string): Promise<string> {
    let id = runId;
    for (let next = await this.retriedBy(tenantId, id); next !== null; next = await this.retriedBy(tenantId, id)) id = next;
    return id;
  }

  /** When the pipeline last finished a run successfully (ms), or null (read connection). */
  lastSucceededAt(pipelineId: number): Promise<number | null> {
    return this.db.read("last success", async (c) => (await c.get<{ at: number | null }>(S.lastSuccess, pipelineId))?.at ?? null);
  }
}
