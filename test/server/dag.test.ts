/**
 * The pipeline DAG: graph resolution (pure), then against an in-process daemon — cycles refused at deploy
 * and at `depends` time, `GET /api/dag` and its pictures, graph runs with skips, and a scheduled success
 * triggering its dependents.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DagView, DependsView, GraphRunView, RunSummary, RunView } from "../../server/contract";
import type { Daemon } from "../../server";
import { findCycle, resolveGraph } from "../../server/dag";
import { pipelineSource, startDaemon, tempHome } from "./helpers/daemon";
import { backendDatabase, STORE_BACKENDS } from "./helpers/postgres";

describe("resolving the graph", () => {
  it("groups pipelines into sorted topological levels with sorted edges", () => {
    const graph = resolveGraph([
      { name: "fct_orders", dependsOn: ["stage_orders", "dim_customers"] },
      { name: "stage_orders", dependsOn: [] },
      { name: "dim_customers", dependsOn: ["stage_customers"] },
      { name: "stage_customers", dependsOn: [] },
      { name: "report", dependsOn: ["fct_orders", "ghost"] },
    ]);
    expect(graph.groups).toEqual([["stage_customers", "stage_orders"], ["dim_customers"], ["fct_orders"], ["report"]]);
    expect(graph.edges).toEqual([
      { from: "dim_customers", to: "fct_orders" },
      { from: "fct_orders", to: "report" },
      { from: "stage_customers", to: "dim_customers" },
      { from: "stage_orders", to: "fct_orders" },
    ]);
    expect(graph.missing).toEqual(["ghost"]);
  });

  it("reports a cycle as the path around it, the same one every time", () => {
    const nodes = [
      { name: "a", dependsOn: ["b"] },
      { name: "b", dependsOn: ["c"] },
      { name: "c", dependsOn: ["a"] },
      { name: "d", dependsOn: ["a"] },
    ];
    expect(findCycle(nodes)).toEqual(["a", "b", "c", "a"]);
    expect(() => resolveGraph(nodes)).toThrowError(expect.objectContaining({ code: "TAU_E_DAG_CYCLE", details: { cycle: ["a", "b", "c", "a"] } }));
    expect(findCycle([{ name: "x", dependsOn: ["y"] }, { name: "y", dependsOn: [] }])).toBeNull();
  });

  it("handles a chain of 5,000 pipelines without recursion", () => {
    const chain = Array.from({ length: 5000 }, (_, i) => ({ name: `p${i}`, dependsOn: i === 0 ? [] : [`p${i - 1}`] }));
    expect(resolveGraph(chain).groups.length).toBe(5000);
    chain[0] = { name: "p0", dependsOn: ["p4999"] };
    expect(findCycle(chain)?.length).toBe(5001);
  });
});

let daemon: Daemon;
let home: ReturnType<typeof tempHome>;
let dropDatabase: () => Promise<void> = async () => undefined;

async function deploy(name: string, body: string, meta = ""): Promise<{ status: number; body: any }> {
  const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source: pipelineSource(name, body, meta), filename: `${name}.ts` } });
  return { status: res.statusCode, body: res.json() };
}

async function api<T = any>(method: "GET" | "POST", url: string, payload?: unknown): Promise<{ status: number; body: T }> {
  const res = await daemon.app.inject({ method, url, payload: payload as Record<string, unknown> | undefined });
  return { status: res.statusCode, body: res.json() as T };
}

const OK = "  return { ok: true };";
const FAIL = '  throw new Error("upstream broke");';


// The same graph on both stores: SQLite in the home, and a fresh PostgreSQL database.
describe.each(STORE_BACKENDS)("on %s", (backend) => {
  beforeAll(async () => {
    home = tempHome();
    const database = await backendDatabase(backend);
    dropDatabase = database.drop;
    daemon = await startDaemon(home.home, { concurrency: 4, databaseUrl: database.databaseUrl });
    for (const [name, body, meta] of [
      ["dag_src_a", OK, ""],
      ["dag_src_b", OK, ""],
      ["dag_mid", OK, 'dependsOn: ["dag_src_a", "dag_src_b"]'],
      ["dag_top", OK, 'dependsOn: ["dag_mid"]'],
      ["dag_bad", FAIL, ""],
      ["dag_after_bad", OK, 'dependsOn: ["dag_bad"]'],
      ["dag_after_after_bad", OK, 'dependsOn: ["dag_after_bad", "dag_src_a"]'],
    ]) {
      const res = await deploy(name!, body!, meta);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });
  afterAll(async () => {
    await daemon?.close();
    await dropDatabase();
    home.remove();
  });

  describe("dependencies", () => {
    it("refuses a deploy that would close a cycle, with the cycle's path, and stores nothing", async () => {
      const res = await deploy("dag_src_a", OK, 'dependsOn: ["dag_top"]');
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: "TAU_E_DAG_CYCLE", details: { cycle: ["dag_src_a", "dag_top", "dag_mid", "dag_src_a"] } });
      const pipeline = await api("GET", "/api/pipelines/dag_src_a");
      expect(pipeline.body.currentVersion).toBe(1);
      expect(pipeline.body.dependsOn).toEqual([]);
    });

    it("refuses `depends` that would close a cycle, and a pipeline depending on itself", async () => {
      const cycle = await api("POST", "/api/pipelines/dag_src_b/depends", { dependsOn: ["dag_top"] });
      expect(cycle.status).toBe(422);
      expect(cycle.body).toMatchObject({ error: { code: "TAU_E_DAG_CYCLE", details: { cycle: ["dag_src_b", "dag_top", "dag_mid", "dag_src_b"] } } });
      const self = await api("POST", "/api/pipelines/dag_src_b/depends", { dependsOn: ["dag_src_b"] });
      expect(self.body).toMatchObject({ error: { code: "TAU_E_DAG_CYCLE", details: { cycle: ["dag_src_b", "dag_src_b"] } } });
    });

    it("sets dependencies from the CLI, keeps them over a deploy of the unchanged file, and resets to the file's", async () => {
      const set = await api<DependsView>("POST", "/api/pipelines/dag_top/depends", { dependsOn: ["dag_src_b", "dag_mid", "not_yet"] });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({
        pipeline: "dag_top",
        dependsOn: ["dag_mid", "dag_src_b", "not_yet"],
        source: "cli",
        metaDependsOn: ["dag_mid"],
        dependents: [],
        missing: ["not_yet"],
      });
      // Redeploying the same file (a changed body, the same dependsOn) keeps the CLI's dependencies.
      expect((await deploy("dag_top", "  return { ok: 2 };", 'dependsOn: ["dag_mid"]')).status).toBe(201);
      expect((await api<DependsView>("GET", "/api/pipelines/dag_top/depends")).body.source).toBe("cli");
      const reset = await api<DependsView>("POST", "/api/pipelines/dag_top/depends", { reset: true });
      expect(reset.body).toMatchObject({ dependsOn: ["dag_mid"], source: "meta", missing: [] });
      const mid = await api<DependsView>("GET", "/api/pipelines/dag_mid/depends");
      expect(mid.body).toMatchObject({ dependsOn: ["dag_src_a", "dag_src_b"], dependents: ["dag_top"] });
    });

    it("rejects an invalid pipeline name in dependsOn and a request with neither dependsOn nor reset", async () => {
      expect((await api("POST", "/api/pipelines/dag_top/depends", { dependsOn: ["Bad Name"] })).body.error.code).toBe("TAU_E_REQUEST_INVALID");
      expect((await api("POST", "/api/pipelines/dag_top/depends", {})).body.error.code).toBe("TAU_E_REQUEST_INVALID");
      expect((await api("GET", "/api/pipelines/nope/depends")).body.error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
    });
  });

  describe("the graph view", () => {
    it("lists nodes, edges and groups", async () => {
      const { body } = await api<DagView>("GET", "/api/dag");
      expect(body.groups).toEqual([["dag_bad", "dag_src_a", "dag_src_b"], ["dag_after_bad", "dag_mid"], ["dag_after_after_bad", "dag_top"]]);
      expect(body.edges).toContainEqual({ from: "dag_mid", to: "dag_top" });
      expect(body.nodes.find((n) => n.name === "dag_mid")).toEqual({ name: "dag_mid", dependsOn: ["dag_src_a", "dag_src_b"], schedule: null, lastStatus: null });
      expect(body.missing).toEqual([]);
    });

    it("draws the graph as Mermaid and as dot", async () => {
      const mermaid = await api("GET", "/api/dag?format=mermaid");
      expect(mermaid.body.format).toBe("mermaid");
      expect(mermaid.body.text).toMatch(/^flowchart LR\n/);
      expect(mermaid.body.text).toContain('["dag_mid"]');
      const dot = await api("GET", "/api/dag?format=dot");
      expect(dot.body.text).toContain('"dag_mid" -> "dag_top";');
      expect((await api("GET", "/api/dag?format=svg")).body.error.code).toBe("TAU_E_REQUEST_INVALID");
    });
  });

  describe("graph runs", () => {
    let graphRun: GraphRunView;

    it("runs the whole graph level by level and skips everything downstream of a failure, naming it", async () => {
      const res = await api<GraphRunView>("POST", "/api/dag/runs", { wait: true });
      expect(res.status).toBe(201);
      graphRun = res.body;
      expect(graphRun.id).toMatch(/^dag_[0-9A-Z]{26}$/);
      expect(graphRun.status).toBe("failed");
      const byName = Object.fromEntries(graphRun.runs.map((r) => [r.pipeline, r]));
      for (const name of ["dag_src_a", "dag_src_b", "dag_mid", "dag_top"]) expect(byName[name]!.status, name).toBe("succeeded");
      expect(byName.dag_bad!.status).toBe("failed");
      expect(byName.dag_after_bad).toMatchObject({ status: "skipped", group: 1, error: { code: "TAU_E_RUN_SKIPPED_UPSTREAM_FAILED", details: { upstream: "dag_bad", upstreamStatus: "failed" } } });
      expect(byName.dag_after_after_bad).toMatchObject({ status: "skipped", error: { details: { upstream: "dag_after_bad", upstreamStatus: "skipped" } } });
      // Each pipeline started only after its dependencies finished.
      expect(Date.parse(byName.dag_mid!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(byName.dag_src_a!.finishedAt!));
      expect(Date.parse(byName.dag_top!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(byName.dag_mid!.finishedAt!));
    });

    it("records the graph run on every run, skipped ones included", async () => {
      const skipped = graphRun.runs.find((r) => r.pipeline === "dag_after_bad")!;
      const run = await api<RunView>("GET", `/api/runs/${skipped.runId}`);
      expect(run.body).toMatchObject({ status: "skipped", trigger: "dag", graphRunId: graphRun.id, version: 1 });
      const runs = await api<RunSummary[]>("GET", "/api/pipelines/dag_mid/runs?last=1");
      expect(runs.body[0]).toMatchObject({ graphRunId: graphRun.id, trigger: "dag", status: "succeeded" });
      expect((await api<GraphRunView>("GET", `/api/dag/runs/${graphRun.id}`)).body).toEqual(graphRun);
    });

    it("runs only a pipeline and what is downstream of it with from", async () => {
      const res = await api<GraphRunView>("POST", "/api/dag/runs", { from: "dag_mid", wait: true });
      expect(res.body).toMatchObject({ root: "dag_mid", status: "succeeded", groups: [["dag_mid"], ["dag_top"]] });
      expect(res.body.runs.map((r) => [r.pipeline, r.status])).toEqual([
        ["dag_mid", "succeeded"],
        ["dag_top", "succeeded"],
      ]);
    });

    it("waits through a pipeline's retries: every attempt belongs to the graph run, the last one decides", async () => {
      expect((await deploy("dag_retry", FAIL, "retries: 1, retryDelaySec: 0, retryOn: [\"TAU_E_PIPELINE_ERROR\"]")).status).toBe(201);
      expect((await deploy("dag_after_retry", OK, 'dependsOn: ["dag_retry"]')).status).toBe(201);
      const res = await api<GraphRunView>("POST", "/api/dag/runs", { from: "dag_retry", wait: true });
      const attempts = (await api<RunSummary[]>("GET", "/api/pipelines/dag_retry/runs?last=5")).body;
      expect(attempts.map((r) => [r.attempt, r.status, r.graphRunId])).toEqual([
        [2, "failed", res.body.id],
        [1, "failed", res.body.id],
      ]);
      expect(res.body.runs.map((r) => [r.pipeline, r.status, r.runId])).toEqual([
        ["dag_retry", "failed", attempts[0]!.id],
        ["dag_after_retry", "skipped", expect.any(String)],
      ]);
    });

    it("answers TAU_E_GRAPH_RUN_NOT_FOUND and TAU_E_PIPELINE_NOT_FOUND for what does not exist", async () => {
      expect((await api("GET", "/api/dag/runs/dag_nope")).body.error.code).toBe("TAU_E_GRAPH_RUN_NOT_FOUND");
      expect((await api("POST", "/api/dag/runs", { from: "nope" })).body.error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
    });

    it("shows each node's last status in the graph view afterwards", async () => {
      const { body } = await api<DagView>("GET", "/api/dag");
      const status = Object.fromEntries(body.nodes.map((n) => [n.name, n.lastStatus]));
      expect(status).toMatchObject({ dag_bad: "failed", dag_after_bad: "skipped", dag_top: "succeeded" });
    });
  });

  describe("rollback and the graph", () => {
    it("refuses a rollback whose dependencies would close a cycle, and leaves the current version", async () => {
      // dag_top v2 depends on nothing; then dag_src_a is made to depend on dag_top.
      expect((await deploy("dag_top", "  return { ok: 3 };")).status).toBe(201);
      const current = (await api("GET", "/api/pipelines/dag_top")).body.currentVersion as number;
      expect((await api("POST", "/api/pipelines/dag_src_a/depends", { dependsOn: ["dag_top"] })).status).toBe(200);
      // Version 1 depended on dag_mid, which depends on dag_src_a: rolling back would close the cycle.
      const res = await api("POST", "/api/pipelines/dag_top/rollback", { to: 1 });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: "TAU_E_DAG_CYCLE", details: { cycle: ["dag_top", "dag_mid", "dag_src_a", "dag_top"] } });
      expect((await api("GET", "/api/pipelines/dag_top")).body.currentVersion).toBe(current);
    });
  });
});
