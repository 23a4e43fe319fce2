/**
 * The pipeline graph as stored (every pipeline's dependencies, schedule and latest run status) and graph
 * runs (`tau dag run`): a graph_run row, and the runs that carry its id. Raw statements (sql.ts): `tau dag` over 1,000 pipelines is two queries.
 */
import type { RunError, RunStatus } from "../contract";
import type { Database } from "./database";
import { bool, sql } from "./sql";
import type { GraphRunRow, StoredSchedule } from "./entities";
import { effectiveDependsOn, effectiveSchedule } from "./schedules";

/** One pipeline as a node of the graph. */
export interface GraphNodeRecord {
  pipelineId: number;
  name: string;
  currentVersion: number;
  dependsOn: string[];
  schedule: StoredSchedule | null;
  enabled: boolean;
  nextRunAt: number | null;
  /** Status of its newest run, or null when it never ran. */
  lastStatus: RunStatus | null;
}

/** A run of a graph run, as the graph run view lists it. */
export interface GraphRunMember {
  id: string;
  pipeline: string;
  status: RunStatus;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: RunError | null;
}

interface NodeDbRow {
  id: number;
  name: string;
  current_version: number;
  depends_on: string;
  depends_on_override: string | null;
  schedule: string | null;
  schedule_timezone: string | null;
  schedule_override: string | null;
  enabled: number | boolean;
  next_run_at: number | null;
}

interface GraphRunDbRow {
  id: string;
  tenant_id: string;
  root: string | null;
  status: GraphRunRow["status"];
  groups: string;
  started_at: number;
  finished_at: number | null;
}

const S = {
  nodes: sql(
    "select id, name, current_version, depends_on, depends_on_override, schedule, schedule_timezone, schedule_override, enabled, next_run_at from pipeline where tenant_id = ? order by name",
    // Byte order on PostgreSQL too, whatever the database's collation (sql.ts, byteOrder).
    `select id, name, current_version, depends_on, depends_on_override, schedule, schedule_timezone, schedule_override, enabled, next_run_at from pipeline where tenant_id = ? order by name collate "C"`,
  ),
  latest: sql(
    "select pipeline_id, status from run where id in (select max(id) from run where tenant_id = ? group by pipeline_id)",
  ),
  latestOf: sql("select status from run where pipeline_id = ? order by id desc limit 1"),
  graphRun: sql("select id, tenant_id, root, status, groups, started_at, finished_at from graph_run where id = ? and tenant_id = ?"),
  members: sql(
    `select r.id, p.name as pipeline, r.status, r.queued_at, r.started_at, r.finished_at, r.error
     from run r join pipeline p on p.id = r.pipeline_id where r.graph_run_id = ? order by r.id`,
  ),
  insert: sql("insert into graph_run (id, tenant_id, root, status, groups, started_at) values (?, ?, ?, 'running', ?, ?)"),
  finish: sql("update graph_run set status = ?, finished_at = ? where id = ?"),
  interrupt: sql("update graph_run set status = 'failed', finished_at = ? where status = 'running'"),
};

export class GraphRepository {
  constructor(private readonly db: Database) {}

  /** Every pipeline of the tenant with its dependencies in effect, by name. */
  nodes(tenantId: string): Promise<GraphNodeRecord[]> {
    return this.db.read("read graph", async (c) => {
      const latest = new Map((await c.all<{ pipeline_id: number; status: RunStatus }>(S.latest, tenantId)).map((r) => [r.pipeline_id, r.status]));
      return (await c.all<NodeDbRow>(S.nodes, tenantId)).map((row) => ({
        pipelineId: row.id,
        name: row.name,
        currentVersion: row.current_version,
        dependsOn: effectiveDependsOn({ dependsOn: JSON.parse(row.depends_on) as string[], dependsOnOverride: parseOrNull<string[]>(row.depends_on_override) }),
        schedule: effectiveSchedule({ schedule: row.schedule, scheduleTimezone: row.schedule_timezone, scheduleOverride: parseOrNull<StoredSchedule>(row.schedule_override) }),
        enabled: bool(row.enabled),
        nextRunAt: row.next_run_at,
        lastStatus: latest.get(row.id) ?? null,
      }));
    });
  }

  /** Status of the pipeline's newest run, or null. */
  latestStatus(pipelineId: number): Promise<RunStatus | null> {
    return this.db.read("latest run status", async (c) => (await c.get<{ status: RunStatus }>(S.latestOf, pipelineId))?.status ?? null);
  }

  async create(run: Omit<GraphRunRow, "status" | "finishedAt">): Promise<void> {
    await this.db.write("start graph run", (c) => c.run(S.insert, run.id, run.tenantId, run.root, JSON.stringify(run.groups), run.startedAt));
  }

  async finish(id: string, status: GraphRunRow["status"], at: number): Promise<void> {
    await this.db.write("finish graph run", (c) => c.run(S.finish, status, at, id));
  }

  /** Fails the graph runs a previous daemon left running; returns how many. */
  async recoverInterrupted(at: number): Promise<number> {
    return this.db.write("recover graph runs", (c) => c.run(S.interrupt, at));
  }

  get(tenantId: string, id: string): Promise<GraphRunRow | null> {
    return this.db.read("find graph run", async (c) => {
      const row = await c.get<GraphRunDbRow>(S.graphRun, id, tenantId);
      if (!row) return null;
      return {
        id: row.id,
        tenantId: row.tenant_id,
        root: row.root,
        status: row.status,
        groups: JSON.parse(row.groups) as string[][],
        startedAt: row.started_at,
        finishedAt: row.finished_at,
      };
    });
  }

  /** The runs recorded for a graph run, oldest first. */
  members(graphRunId: string): Promise<GraphRunMember[]> {
    return this.db.read("list graph run runs", async (c) =>
      (await c.all<{ id: string; pipeline: string; status: RunStatus; queued_at: number; started_at: number | null; finished_at: number | null; error: string | null }>(S.members, graphRunId)).map(
        (r) => ({
          id: r.id,
          pipeline: r.pipeline,
          status: r.status,
          queuedAt: r.queued_at,
          startedAt: r.started_at,
          finishedAt: r.finished_at,
          error: parseOrNull<RunError>(r.error),
        }),
      ),
    );
  }
}

function parseOrNull<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
