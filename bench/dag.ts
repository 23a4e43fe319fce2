/**
 * bench/dag — the pipeline DAG.
 *
 * Part 1: a 1,000-node DAG (each node depends on up to 3 earlier ones) resolved into topological groups
 * and checked for cycles, against a naive baseline that finds each level by rescanning every node.
 * Part 2: `GET /api/dag` over 1,000 deployed pipelines (store reads + resolve + serialise).
 * Part 3: a 200-node graph run of no-op pipelines end to end through a real in-process daemon (real
 * executors, 10 levels of 20), against the same 200 pipelines run as 200 independent runs (the floor:
 * no graph, all at once).
 *
 *   npm run build && node --no-node-snapshot dist/bench/dag.js [--nodes 1000] [--graph-run 200]
 *
 * Targets (issue 5, not asserted anywhere): resolve and group 1,000 nodes in < 50 ms.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createDaemon } from "../server";
import { findCycle, resolveGraph, type GraphInput } from "../server/dag";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const NODES = arg("nodes", 1000);
const GRAPH_RUN = arg("graph-run", 200);
const ms = (n: number): string => `${n.toFixed(3)} ms`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Deterministic pseudo-random DAG: node i depends on up to 3 of the nodes before it. */
function randomDag(n: number): GraphInput[] {
  let seed = 42;
  const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => {
    const deps = new Set<string>();
    const k = i === 0 ? 0 : Math.floor(rand() * 4);
    for (let j = 0; j < k; j++) deps.add(`node_${Math.floor(rand() * i)}`);
    return { name: `node_${i}`, dependsOn: [...deps] };
  });
}

/** The baseline: level by level, rescan every unplaced node for one whose dependencies are all placed. */
function naiveGroups(nodes: GraphInput[]): string[][] {
  const placed = new Set<string>();
  const groups: string[][] = [];
  let left = nodes;
  while (left.length > 0) {
    const level = left.filter((n) => n.dependsOn.every((d) => placed.has(d)));
    if (level.length === 0) throw new Error("cycle");
    for (const n of level) placed.add(n.name);
    groups.push(level.map((n) => n.name).sort());
    left = left.filter((n) => !placed.has(n.name));
  }
  return groups;
}

function time(fn: () => unknown, repeat: number): number {
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

function partOne(): void {
  console.log(`\n── part 1: resolve a ${NODES}-node DAG ──`);
  const shapes: Array<[string, GraphInput[]]> = [
    ["random (up to 3 dependencies each)", randomDag(NODES)],
    ["chain (each depends on the one before)", Array.from({ length: NODES }, (_, i) => ({ name: `node_${i}`, dependsOn: i === 0 ? [] : [`node_${i - 1}`] }))],
  ];
  for (const [label, nodes] of shapes) {
    const graph = resolveGraph(nodes);
    if (JSON.stringify(naiveGroups(nodes)) !== JSON.stringify(graph.groups)) throw new Error("baseline disagrees");
    const resolve = time(() => resolveGraph(nodes), 50);
    const cycle = time(() => findCycle(nodes), 50);
    const naive = time(() => naiveGroups(nodes), 10);
    console.log(`${label}: ${NODES} nodes, ${graph.edges.length} edges, ${graph.groups.length} groups`);
    console.log(`  resolve + group + sorted edges (Kahn): ${ms(resolve)} (median of 50)  — target < 50 ms: ${resolve < 50 ? "met" : "missed"}`);
    console.log(`  cycle check (iterative DFS): ${ms(cycle)}`);
    console.log(`  baseline, rescan all nodes per level (groups only): ${ms(naive)} → Kahn/baseline ${(resolve / naive).toFixed(2)}×`);
  }
}

async function partTwoAndThree(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "tau-bench-dag-"));
  const daemon = await createDaemon({ home, port: 0, executors: 2, logLevel: "silent", maxQueued: 100_000 });
  const call = async (method: "GET" | "POST", url: string, payload?: unknown): Promise<any> => {
    const res = await daemon.app.inject({ method, url, payload: payload as Record<string, unknown> | undefined });
    if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.body}`);
    return res.json();
  };
  const deploy = (name: string, dependsOn: string[]): Promise<unknown> =>
    call("POST", "/api/pipelines", {
      source: `import { pipeline } from "tau";\nexport default pipeline({ name: "${name}", dependsOn: ${JSON.stringify(dependsOn)} }, async () => ({ ok: true }));\n`,
      filename: `${name}.ts`,
      typecheck: false,
    });
  try {
    // Part 3's graph first: 10 levels of GRAPH_RUN / 10, each node depending on 2 of the level before.
    const width = Math.max(1, Math.round(GRAPH_RUN / 10));
    const levels = Math.ceil(GRAPH_RUN / width);
    let t = performance.now();
    const names: string[] = [];
    for (let level = 0; level < levels; level++) {
      for (let i = 0; i < width && names.length < GRAPH_RUN; i++) {
        const deps = level === 0 ? [] : [`g${level - 1}_${i}`, `g${level - 1}_${(i + 1) % width}`];
        const name = `g${level}_${i}`;
        await deploy(name, deps);
        names.push(name);
      }
    }
    console.log(`\nsetup: ${names.length} pipelines deployed in ${(performance.now() - t).toFixed(0)} ms`);

    console.log(`\n── part 3: a ${names.length}-node graph run of no-op pipelines, end to end ──`);
    // Warm the executors and the bundle caches.
    await call("POST", "/api/dag/runs", { wait: true });
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      const graphRun = await call("POST", "/api/dag/runs", { wait: true });
      runs.push(performance.now() - t);
      if (graphRun.status !== "succeeded") throw new Error(`graph run ${graphRun.status}`);
    }
    const graphMs = median(runs);
    // The floor: the same pipelines as independent runs, all queued at once.
    const floors: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      await Promise.all(names.map((name) => call("POST", `/api/pipelines/${name}/runs`, { wait: true })));
      floors.push(performance.now() - t);
    }
    const floorMs = median(floors);
    console.log(`graph run (${levels} levels × ${width}): ${graphMs.toFixed(0)} ms = ${(names.length / (graphMs / 1000)).toFixed(0)} runs/s (median of 3)`);
    console.log(`floor, ${names.length} independent runs at once: ${floorMs.toFixed(0)} ms = ${(names.length / (floorMs / 1000)).toFixed(0)} runs/s`);
    console.log(`graph run / floor: ${(graphMs / floorMs).toFixed(2)}× (the graph waits for each level's dependencies)`);

    console.log(`\n── part 2: GET /api/dag over ${NODES} deployed pipelines ──`);
    t = performance.now();
    // Chains of three: x_i depends on x_(i-1) unless i starts a chain.
    for (let i = names.length; i < NODES; i++) await deploy(`x${i}`, i % 3 === 0 || i === names.length ? [] : [`x${i - 1}`]);
    console.log(`setup: ${NODES - names.length} more pipelines deployed in ${(performance.now() - t).toFixed(0)} ms`);
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      t = performance.now();
      const view = await call("GET", "/api/dag");
      samples.push(performance.now() - t);
      if (view.nodes.length !== NODES) throw new Error(`expected ${NODES} nodes, got ${view.nodes.length}`);
    }
    console.log(`GET /api/dag with ${NODES} nodes (read, resolve, serialise): ${ms(median(samples))} (median of 20)`);
  } finally {
    await daemon.close();
    rmSync(home, { recursive: true, force: true });
  }
}

partOne();
partTwoAndThree().catch((err) => {
  console.error(err);
  process.exit(1);
});
