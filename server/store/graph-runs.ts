/**
 * The pipeline graph as stored (every pipeline's dependencies, schedule and latest run status) and graph
 * runs (`tau dag run`): a graph_run row, and the runs that carry its id. Prepared statements on the raw
 * connections: `tau dag` over 1,000 pipelines is two queries.
 */
import type { RunError, RunStatus } from "../contract";
import { statementCache, type Database } from "./database";
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
  enabled: number;
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

const reads = statementCache((c) => ({
  nodes: c.prepare(
    "select id, name, current_version, depends_on, depends_on_override, schedule, schedule_timezone, schedule_override, enabled, next_run_at from pipeline where tenant_id = ? order by name",
  ),
  latest: c.prepare(
    "select pipeline_id, status from run where id in (select max(id) from run where tenant_id = ? group by pipeline_id)",
  ),
  latestOf: c.prepare("select status from run where pipeline_id = ? order by id desc limit 1"),
  graphRun: c.prepare("select id, tenant_id, root, status, groups, started_at, finished_at from graph_run where id = ? and tenant_id = ?"),
  members: c.prepare(
    `select r.id, p.name as pipeline, r.status, r.queued_at, r.started_at, r.finished_at, r.error
     from run r join pipeline p on p.id = r.pipeline_id where r.graph_run_id = ? order by r.id`,
  ),
}));

const writes = statementCache((c) => ({
  insert: c.prepare("insert into graph_run (id, tenant_id, root, status, groups, started_at) values (?, ?, ?, 'running', ?, ?)"),
  finish: c.prepare("update graph_run set status = ?, finished_at = ? where id = ?"),
  interrupt: c.prepare("update graph_run set status = 'failed', finished_at = ? where status = 'running'"),
}));

export class GraphRepository {
  constructor(private readonly db: Database) {}

  /** Every pipeline of the tenant with its dependencies in effect, by name. */
  nodes(tenantId: string): GraphNodeRecord[] {
    return this.db.read("read graph", (c) => {
      const s = reads(c);
      const latest = new Map((s.latest.all(tenantId) as Array<{ pipeline_id: number; status: RunStatus }>).map((r) => [r.pipeline_id, r.status]));
      return (s.nodes.all(tenantId) as NodeDbRow[]).map((row) => ({
        pipelineId: row.id,
        name: row.name,
        currentVersion: row.current_version,
        dependsOn: effectiveDependsOn({ dependsOn: JSON.parse(row.depends_on) as string[], dependsOnOverride: parseOrNull<string[]>(row.depends_on_override) }),
        schedule: effectiveSchedule({ schedule: row.schedule, scheduleTimezone: row.schedule_timezone, scheduleOverride: parseOrNull<StoredSchedule>(row.schedule_override) }),
        enabled: row.enabled === 1,
        nextRunAt: row.next_run_at,
        lastStatus: latest.get(row.id) ?? null,
      }));
    });
  }

  /** Status of the pipeline's newest run, or null. */
  latestStatus(pipelineId: number): RunStatus | null {
    return this.db.read("latest run status", (c) => (reads(c).latestOf.get(pipelineId) as { status: RunStatus } | undefined)?.status ?? null);
  }

  async create(run: Omit<GraphRunRow, "status" | "finishedAt">): Promise<void> {
    await this.db.write("start graph run", (c) => writes(c).insert.run(run.id, run.tenantId, run.root, JSON.stringify(run.groups), run.startedAt));
  }

  async finish(id: string, status: GraphRunRow["status"], at: number): Promise<void> {
    await this.db.write("finish graph run", (c) => writes(c).finish.run(status, at, id));
  }

  /** Fails the graph runs a previous daemon left running; returns how many. */
  async recoverInterrupted(at: number): Promise<number> {
    return this.db.write("recover graph runs", (c) => writes(c).interrupt.run(at).changes);
  }

  get(tenantId: string, id: string): GraphRunRow | null {
    return this.db.read("find graph run", (c) => {
      const row = reads(c).graphRun.get(id, tenantId) as GraphRunDbRow | undefined;
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
  members(graphRunId: string): GraphRunMember[] {
    return this.db.read("list graph run runs", (c) =>
      (reads(c).members.all(graphRunId) as Array<{ id: string; pipeline: string; status: RunStatus; queued_at: number; started_at: number | null; finished_at: number | null; error: string | null }>).map(
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
