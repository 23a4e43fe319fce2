/**
 * One graph run (`tau dag run`): each pipeline starts as soon as every dependency it has in the run has
 * succeeded — ready pipelines run concurrently, within the RunService's limits — and is recorded `skipped`
 * (naming the upstream) as soon as one has not. Dependencies outside the run (`--from` leaves some out)
 * count through their newest run, which must have succeeded.
 */
import { TauError, type ErrorCode, type RunStatus, type RunTrigger } from "../contract";
import type { Logger } from "../log";
import { daemonRunError, type GraphNodeRecord, type RunEnd, type Store } from "../store";

/** What a graph run needs of the RunService. */
export interface GraphRunsPort {
  enqueue(tenantId: string, pipeline: string, request: { params: Record<string, unknown>; trigger: RunTrigger; graphRunId?: string | null }): Promise<{ id: string }>;
  /** Resolves with the id of the run's final attempt (after retries) once it has finished or after timeoutMs. */
  waitFor(tenantId: string, runId: string, timeoutMs: number): Promise<string | void>;
}

export interface GraphRunPlan {
  id: string;
  tenantId: string;
  /** Nodes of the run, in topological order. */
  order: GraphNodeRecord[];
  /** Every node of the tenant's graph, by name (for dependencies outside the run). */
  all: Map<string, GraphNodeRecord>;
}

/** A node's outcome as its dependents see it. */
type Settled = RunStatus | "interrupted";

/** setTimeout's limit; waits longer than this are done in chunks. */
const WAIT_CHUNK_MS = 2 ** 31 - 1;

export async function executeGraphRun(
  plan: GraphRunPlan,
  deps: { store: Store; runs: GraphRunsPort; log: Logger; ids: { runId(): string }; isStopping: () => boolean },
): Promise<boolean> {
  const inRun = new Set(plan.order.map((n) => n.name));
  const settled = new Map<string, Promise<Settled>>();

  const skip = async (node: GraphNodeRecord, code: ErrorCode, message: string, details: Record<string, unknown>): Promise<Settled> => {
    const at = Date.now();
    const end: RunEnd = { status: "skipped", error: daemonRunError(code, message, details) };
    await deps.store.ledger.settled(
      { tenantId: plan.tenantId, runId: deps.ids.runId(), pipeline: node.name, pipelineId: node.pipelineId, version: node.currentVersion, trigger: "dag", params: {}, queuedAt: at, graphRunId: plan.id },
      end,
      at,
    );
    return "skipped";
  };

  const runNode = async (node: GraphNodeRecord): Promise<Settled> => {
    // Dependencies inside the run: wait for them. A node is only planned after its dependencies (topological order).
    for (const dep of [...node.dependsOn].sort()) {
      const upstream = inRun.has(dep) ? await settled.get(dep)! : null;
      if (upstream === "interrupted" || deps.isStopping()) return "interrupted";
      if (upstream !== null && upstream !== "succeeded") {
        return skip(node, "TAU_E_RUN_SKIPPED_UPSTREAM_FAILED", `Skipped: upstream pipeline '${dep}' ${upstream}.`, { upstream: dep, upstreamStatus: upstream });
      }
    }
    for (const dep of [...node.dependsOn].sort()) {
      if (inRun.has(dep)) continue;
      const outside = plan.all.get(dep);
      if (!outside) return skip(node, "TAU_E_RUN_SKIPPED_UPSTREAM_MISSING", `Skipped: upstream pipeline '${dep}' is not deployed.`, { upstream: dep });
      const status = await deps.store.graph.latestStatus(outside.pipelineId);
      if (status !== "succeeded") {
        const what = status === null ? "has never run" : `last ${status}`;
        return skip(node, "TAU_E_RUN_SKIPPED_UPSTREAM_FAILED", `Skipped: upstream pipeline '${dep}' (not part of this graph run) ${what}.`, {
          upstream: dep,
          upstreamStatus: status,
          outsideGraphRun: true,
        });
      }
    }
    if (deps.isStopping()) return "interrupted";
    let runId: string;
    try {
      runId = (await deps.runs.enqueue(plan.tenantId, node.name, { params: {}, trigger: "dag", graphRunId: plan.id })).id;
    } catch (err) {
      if (err instanceof TauError && err.code === "TAU_E_DAEMON_SHUTTING_DOWN") return "interrupted";
      const code: ErrorCode = err instanceof TauError ? err.code : "TAU_E_INTERNAL";
      const at = Date.now();
      await deps.store.ledger.settled(
        { tenantId: plan.tenantId, runId: deps.ids.runId(), pipeline: node.name, pipelineId: node.pipelineId, version: node.currentVersion, trigger: "dag", params: {}, queuedAt: at, graphRunId: plan.id },
        { status: "failed", error: daemonRunError(code, `Could not queue the run: ${(err as Error).message}`) },
        at,
      );
      return "failed";
    }
    for (;;) {
      const final = (await deps.runs.waitFor(plan.tenantId, runId, WAIT_CHUNK_MS)) ?? runId;
      runId = final;
      const status = await deps.store.runs.status(plan.tenantId, runId);
      if (status === null) return "failed";
      if (status !== "queued" && status !== "running") return status;
    }
  };

  for (const node of plan.order) {
    const outcome = runNode(node).catch((err: unknown) => {
      deps.log.error({ err, graphRunId: plan.id, pipeline: node.name }, "graph run: a pipeline could not be settled");
      return "failed" as const;
    });
    settled.set(node.name, outcome);
  }
  const outcomes = await Promise.all(settled.values());
  return outcomes.every((o) => o === "succeeded");
}
