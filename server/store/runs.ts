/**
 * Reading runs and steps: the ORM for views and listings, the read connection for the lookups every run
 * makes. Runs are written only by the run ledger (run-ledger.ts); nothing here modifies a run entity, so the
 * ORM's unit of work never writes a stale copy back over the ledger's rows.
 */
import { raw } from "@mikro-orm/core";
import type { RunStatus } from "../contract";
import { statementCache, type Database } from "./database";
import { RunEntity, StepEntity, type RunRow, type StepRow } from "./entities";

const hot = statementCache((c) => ({
  status: c.prepare("select status from run where id = ? and tenant_id = ?"),
  lastSuccess: c.prepare("select max(finished_at) as at from run where pipeline_id = ? and status = 'succeeded'"),
}));

export class RunRepository {
  constructor(private readonly db: Database) {}

  get(tenantId: string, runId: string): Promise<RunRow | null> {
    return this.db.query("find run", (em) => em.findOne(RunEntity, { id: runId, tenantId }, { populate: ["pipeline"] }));
  }

  steps(runId: string): Promise<StepRow[]> {
    return this.db.query("list steps", (em) => em.find(StepEntity, { run: runId }, { orderBy: { position: "asc" } }));
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

  /** A tenant's failed runs, most recently finished first. */
  recentFailed(tenantId: string, limit: number): Promise<RunRow[]> {
    return this.db.query("list failed runs", (em) =>
      em.find(RunEntity, { tenantId, status: "failed" }, { orderBy: { finishedAt: "desc", id: "desc" }, limit, populate: ["pipeline"] }),
    );
  }

  /** Runs of any tenant that are queued or running: after a restart, those were interrupted. */
  unfinished(): Promise<RunRow[]> {
    return this.db.query("list unfinished runs", (em) =>
      em.find(RunEntity, { status: { $in: ["queued", "running"] } }, { orderBy: { id: "asc" }, populate: ["pipeline"] }),
    );
  }

  /** A run's status (read connection), or null when there is no such run. */
  status(tenantId: string, runId: string): RunStatus | null {
    return this.db.read("run status", (c) => (hot(c).status.get(runId, tenantId) as { status: RunStatus } | undefined)?.status ?? null);
  }

  /** When the pipeline last finished a run successfully (ms), or null (read connection). */
  lastSucceededAt(pipelineId: number): number | null {
    return this.db.read("last success", (c) => (hot(c).lastSuccess.get(pipelineId) as { at: number | null }).at);
  }
}
