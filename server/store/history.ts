/**
 * Run history for charts (the dashboard's sparklines and run-history chart): each pipeline's newest runs as
 * points with their timings, status and row counts. Two raw statements per pipeline (sql.ts), both on indexes (run: pipeline_id, id; step: run_id, position) — no scan of the run table.
 */
import type { ErrorCode, RunStatus, RunTrigger } from "../contract";
import type { Database } from "./database";
import { sql, type SqlExecutor } from "./sql";

/** One run as a chart point. Times are epoch milliseconds (views turn them into ISO strings). */
export interface RunPointRecord {
  id: string;
  version: number;
  status: RunStatus;
  trigger: RunTrigger;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** rowsIn of the first step that reported one. */
  rowsIn: number | null;
  /** rowsOut of the last step that reported one: what the run produced. */
  rowsOut: number | null;
  errorCode: ErrorCode | null;
}

interface RunPointRow {
  id: string;
  version: number;
  status: RunStatus;
  trigger: RunTrigger;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
}

interface StepRowsRow {
  run_id: string;
  rows_in: number | null;
  rows_out: number | null;
}

const S = {
  pipelines: sql("select id, name from pipeline where tenant_id = ? order by name", `select id, name from pipeline where tenant_id = ? order by name collate "C"`),
  pipeline: sql("select id, name from pipeline where tenant_id = ? and name = ?"),
  runs: sql(
    `select id, version, status, "trigger", queued_at, started_at, finished_at, error
     from run where pipeline_id = ? order by id desc limit ?`,
  ),
  steps: sql(
    `select run_id, rows_in, rows_out from step
     where run_id in (select id from run where pipeline_id = ? order by id desc limit ?) order by run_id, position`,
  ),
};

export class HistoryRepository {
  constructor(private readonly db: Database) {}

  /** The newest `last` runs of every pipeline of a tenant (newest first), by pipeline name. */
  all(tenantId: string, last: number): Promise<Map<string, RunPointRecord[]>> {
    return this.db.read("read run history", async (c) => {
      const out = new Map<string, RunPointRecord[]>();
      for (const p of await c.all<{ id: number; name: string }>(S.pipelines, tenantId)) out.set(p.name, await points(c, p.id, last));
      return out;
    });
  }

  /** The newest `last` runs of one pipeline (newest first); null when there is no such pipeline. */
  of(tenantId: string, name: string, last: number): Promise<RunPointRecord[] | null> {
    return this.db.read("read run history", async (c) => {
      const p = await c.get<{ id: number }>(S.pipeline, tenantId, name);
      return p ? points(c, p.id, last) : null;
    });
  }
}

async function points(c: SqlExecutor, pipelineId: number, last: number): Promise<RunPointRecord[]> {
  const rows = new Map<string, { rowsIn: number | null; rowsOut: number | null }>();
  for (const step of await c.all<StepRowsRow>(S.steps, pipelineId, last)) {
    const acc = rows.get(step.run_id) ?? { rowsIn: null, rowsOut: null };
    if (acc.rowsIn === null && step.rows_in !== null) acc.rowsIn = step.rows_in;
    if (step.rows_out !== null) acc.rowsOut = step.rows_out;
    rows.set(step.run_id, acc);
  }
  return (await c.all<RunPointRow>(S.runs, pipelineId, last)).map((r) => ({
    id: r.id,
    version: r.version,
    status: r.status,
    trigger: r.trigger,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    rowsIn: rows.get(r.id)?.rowsIn ?? null,
    rowsOut: rows.get(r.id)?.rowsOut ?? null,
    errorCode: r.error === null ? null : ((JSON.parse(r.error) as { code?: ErrorCode }).code ?? null),
  }));
}
