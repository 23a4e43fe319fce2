/**
 * The DAG service: the graph view (`tau dag`), dependencies set from the CLI (`tau depends`) and checked
 * for cycles together with deploys, graph runs (`tau dag run`), and the rule that a scheduled pipeline's
 * success triggers its dependents whose other dependencies' newest runs succeeded (trigger "dag").
 */
import { TauError, type DagTextView, type DagView, type DependsRequest, type DependsView, type GraphRunView } from "../contract";
import { PIPELINE_NAME } from "../../sandbox";
import type { IdGenerator } from "../ids";
import type { Logger } from "../log";
import type { GraphNodeRecord, PipelineRow, Store, TenantEvent } from "../store";
import { effectiveDependsOn, iso, isoOrNull } from "../store";
import { assertAcyclic, downstreamOf, resolveGraph } from "./graph";
import { executeGraphRun, type GraphRunsPort } from "./graph-run";
import { renderDag, type DagFormat } from "./render";

export interface DagServiceOptions {
  store: Store;
  runs: GraphRunsPort;
  log: Logger;
  ids: IdGenerator;
}

interface ActiveGraphRun {
  done: Promise<void>;
}

/** setTimeout's limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DagService {
  /** Changes to one tenant's graph (deploys, `tau depends`) are checked and written one at a time. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly active = new Map<string, ActiveGraphRun>();
  /** Triggers run one after another: two upstreams succeeding together must not both queue their dependent. */
  private cascades: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: DagServiceOptions) {}

  // ── the graph ────────────────────────────────────────────────────────────────────────────────────

  async view(tenantId: string): Promise<DagView> {
    const nodes = await this.options.store.graph.nodes(tenantId);
    const graph = resolveGraph(nodes);
    return {
      nodes: nodes.map((n) => ({ name: n.name, dependsOn: [...n.dependsOn].sort(), schedule: scheduleText(n), lastStatus: n.lastStatus })),
      edges: graph.edges,
      groups: graph.groups,
      missing: graph.missing,
    };
  }

  async text(tenantId: string, format: DagFormat): Promise<DagTextView> {
    return { format, text: renderDag(await this.view(tenantId), format) };
  }

  // ── dependencies ─────────────────────────────────────────────────────────────────────────────────

  async depends(tenantId: string, name: string): Promise<DependsView> {
    const pipeline = await this.options.store.pipelines.findByName(tenantId, name);
    if (!pipeline) throw notFound(name);
    return this.dependsView(tenantId, pipeline);
  }

  /** Sets (or with `reset`, drops) the CLI's dependencies; TAU_E_DAG_CYCLE when they would close a cycle. */
  async setDepends(tenantId: string, name: string, request: DependsRequest): Promise<DependsView> {
    if ((request.dependsOn === undefined) === (request.reset !== true)) {
      throw new TauError("TAU_E_REQUEST_INVALID", "Give either dependsOn (the new dependencies) or reset: true.", { fields: ["dependsOn", "reset"] });
    }
    const wanted = request.dependsOn === undefined ? null : [...new Set(request.dependsOn)].sort();
    const bad = wanted?.find((d) => !PIPELINE_NAME.test(d));
    if (bad !== undefined) {
      throw new TauError("TAU_E_REQUEST_INVALID", `${JSON.stringify(bad.slice(0, 80))} is not a valid pipeline name.`, { dependsOn: bad.slice(0, 80) });
    }
    if (wanted?.includes(name)) throw new TauError("TAU_E_DAG_CYCLE", `A pipeline cannot depend on itself ('${name}').`, { cycle: [name, name] });
    return this.withTenantLock(tenantId, async () => {
      const { store } = this.options;
      const pipeline = await store.pipelines.findByName(tenantId, name);
      if (!pipeline) throw notFound(name);
      assertAcyclic(await store.graph.nodes(tenantId), name, wanted ?? pipeline.dependsOn);
      const updated = await store.schedules.setDependsOn(tenantId, name, wanted);
      return this.dependsView(tenantId, updated);
    });
  }

  /**
   * Wraps a deploy's write: the dependencies the deploy leaves in effect are checked for cycles against the
   * rest of the graph, under the tenant's lock, so two deploys cannot close a cycle between them.
   */
  guardDeploy<T>(tenantId: string, meta: { name: string; dependsOn: string[] }, existing: PipelineRow | null, write: () => Promise<T>): Promise<T> {
    return this.withTenantLock(tenantId, async () => {
      // An override from `tau depends` survives a deploy that leaves the file's dependsOn as it was.
      const keepsOverride = existing?.dependsOnOverride && JSON.stringify(existing.dependsOn) === JSON.stringify(meta.dependsOn);
      assertAcyclic(await this.options.store.graph.nodes(tenantId), meta.name, keepsOverride ? existing!.dependsOnOverride! : meta.dependsOn);
      return write();
    });
  }

  // ── graph runs ───────────────────────────────────────────────────────────────────────────────────

  /** Plans and starts a graph run; answers with it as it stands once its id is stored. */
  async startGraphRun(tenantId: string, request: { from?: string }): Promise<GraphRunView> {
    if (this.stopping) throw new TauError("TAU_E_DAEMON_SHUTTING_DOWN");
    const { store, ids, log } = this.options;
    const nodes = await store.graph.nodes(tenantId);
    const all = new Map(nodes.map((n) => [n.name, n]));
    let selected = nodes;
    if (request.from !== undefined) {
      if (!all.has(request.from)) throw notFound(request.from);
      const downstream = downstreamOf(nodes, request.from);
      selected = nodes.filter((n) => downstream.has(n.name));
    }
    const graph = resolveGraph(selected);
    const order = graph.groups.flat().map((name) => all.get(name)!);
    const id = `dag_${ids.ulid()}`;
    const startedAt = Date.now();
    await store.graph.create({ id, tenantId, root: request.from ?? null, groups: graph.groups, startedAt });
    const done = executeGraphRun(
      { id, tenantId, order, all },
      { store, runs: this.options.runs, log, ids, isStopping: () => this.stopping },
    )
      .catch((err: unknown) => {
        log.error({ err, graphRunId: id }, "graph run failed inside the daemon");
        return false;
      })
      .then(async (succeeded) => {
        await store.graph.finish(id, succeeded ? "succeeded" : "failed", Date.now());
      })
      .catch((err: unknown) => log.error({ err, graphRunId: id }, "could not store the end of a graph run"))
      .finally(() => this.active.delete(id));
    this.active.set(id, { done });
    log.info({ graphRunId: id, root: request.from ?? null, pipelines: order.length, groups: graph.groups.length }, "graph run started");
    return (await this.graphRun(tenantId, id))!;
  }

  /** A graph run with the state of each of its pipelines, or null. */
  async graphRun(tenantId: string, id: string): Promise<GraphRunView | null> {
    const { store } = this.options;
    const row = await store.graph.get(tenantId, id);
    if (!row) return null;
    const newest = new Map((await store.graph.members(id)).map((m) => [m.pipeline, m]));
    const runs = row.groups.flatMap((group, index) =>
      group.map((pipeline) => {
        const run = newest.get(pipeline);
        return {
          pipeline,
          group: index,
          status: run?.status ?? ("pending" as const),
          runId: run?.id ?? null,
          queuedAt: isoOrNull(run?.queuedAt),
          startedAt: isoOrNull(run?.startedAt),
          finishedAt: isoOrNull(run?.finishedAt),
          error: run?.error ?? null,
        };
      }),
    );
    return {
      id: row.id,
      root: row.root,
      status: row.status,
      startedAt: iso(row.startedAt),
      finishedAt: isoOrNull(row.finishedAt),
      durationMs: row.finishedAt === null ? null : Math.max(0, row.finishedAt - row.startedAt),
      groups: row.groups,
      runs,
    };
  }

  /** Resolves when the graph run has ended, after `timeoutMs`, or when `signal` aborts. Never rejects. */
  async waitGraphRun(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const active = this.active.get(id);
    if (!active) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(timeoutMs, MAX_TIMER_MS));
      onAbort = resolve;
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([active.done, stop]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Fails graph runs a previous daemon left running. */
  recoverInterrupted(): Promise<number> {
    return this.options.store.graph.recoverInterrupted(Date.now());
  }

  // ── scheduled successes trigger dependents ───────────────────────────────────────────────────────

  /** The event bus listener: a scheduled (or so triggered) run's success triggers its ready dependents. */
  onEvent(tenantEvent: TenantEvent): void {
    const { event, tenantId } = tenantEvent;
    if (this.stopping || event.kind !== "run.finished" || event.data?.status !== "succeeded") return;
    this.cascades = this.cascades
      .then(() => this.cascade(tenantId, event.runId))
      .catch((err: unknown) => this.options.log.error({ err, runId: event.runId }, "could not trigger the dependents of a scheduled run"));
  }

  private async cascade(tenantId: string, runId: string): Promise<void> {
    const { store, runs, log } = this.options;
    const run = await store.runs.record(tenantId, runId);
    // Graph runs start their own downstream; manual runs trigger nothing.
    if (!run || run.graphRunId || (run.trigger !== "schedule" && run.trigger !== "dag")) return;
    const upstream = run.pipeline.name;
    const nodes = await store.graph.nodes(tenantId);
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const node of nodes) {
      if (!node.dependsOn.includes(upstream)) continue;
      const waiting = node.dependsOn.filter((d) => d !== upstream && byName.get(d)?.lastStatus !== "succeeded");
      if (waiting.length > 0) {
        log.info({ tenant: tenantId, pipeline: node.name, upstream, waitingFor: waiting }, "dependent not triggered: other dependencies have not succeeded");
        continue;
      }
      const activeRun = await store.schedules.activeRun(node.pipelineId);
      if (activeRun) {
        log.warn({ tenant: tenantId, pipeline: node.name, upstream, runId: activeRun }, "dependent not triggered: a run of it is already queued or running");
        continue;
      }
      if (this.stopping) return;
      const queued = await runs.enqueue(tenantId, node.name, { params: {}, trigger: "dag" });
      log.info({ tenant: tenantId, pipeline: node.name, upstream, upstreamRunId: runId, runId: queued.id }, "dependent triggered by its upstream's success");
    }
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────────

  /** Starts nothing new from now on (the daemon is closing); graph runs stop at their next pipeline. */
  beginShutdown(): void {
    this.stopping = true;
  }

  /** Waits for graph runs and triggers in progress to settle (call after the RunService has shut down). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...[...this.active.values()].map((a) => a.done), this.cascades]);
  }

  private async dependsView(tenantId: string, pipeline: PipelineRow): Promise<DependsView> {
    const nodes = await this.options.store.graph.nodes(tenantId);
    const names = new Set(nodes.map((n) => n.name));
    const dependsOn = [...effectiveDependsOn(pipeline)].sort();
    return {
      pipeline: pipeline.name,
      dependsOn,
      source: pipeline.dependsOnOverride ? "cli" : "meta",
      metaDependsOn: pipeline.dependsOn,
      dependents: nodes.filter((n) => n.dependsOn.includes(pipeline.name)).map((n) => n.name).sort(),
      missing: dependsOn.filter((d) => !names.has(d)),
    };
  }

  private async withTenantLock<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(tenantId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.locks.set(tenantId, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(tenantId) === next) this.locks.delete(tenantId);
    }
  }
}

function scheduleText(node: GraphNodeRecord): string | null {
  if (!node.schedule) return null;
  return node.schedule.cron ?? `every ${node.schedule.everySec}s`;
}

function notFound(name: string): TauError {
  return new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
}
