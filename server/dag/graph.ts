/**
 * The pipeline graph, resolved: edges from each pipeline's dependencies, topological levels (the groups
 * that may run in parallel), cycle detection with the cycle's path, and what lies downstream of a node.
 * Pure functions over names; every output is sorted so the same graph always prints the same bytes.
 *
 * A dependency on a pipeline that is not deployed is allowed (docs/scheduling.md): it makes no edge, it is
 * listed in `missing`, and the dependent never runs in a graph run until that pipeline exists.
 */
import { TauError } from "../contract";

export interface GraphInput {
  name: string;
  dependsOn: readonly string[];
}

export interface ResolvedGraph {
  /** `from` must succeed before `to` runs; sorted by from, then to. */
  edges: Array<{ from: string; to: string }>;
  /** Topological levels, names sorted within each. */
  groups: string[][];
  /** Level of each pipeline (index into groups). */
  levels: Map<string, number>;
  /** Dependencies naming no node, sorted. */
  missing: string[];
}

/** Resolves the graph; TAU_E_DAG_CYCLE (with `details.cycle`) when the dependencies form a cycle. */
export function resolveGraph(nodes: readonly GraphInput[]): ResolvedGraph {
  const known = new Set(nodes.map((n) => n.name));
  const missing = new Set<string>();
  const dependents = new Map<string, string[]>();
  const pending = new Map<string, number>();
  for (const node of nodes) {
    let count = 0;
    for (const dep of new Set(node.dependsOn)) {
      if (!known.has(dep)) {
        missing.add(dep);
        continue;
      }
      let list = dependents.get(dep);
      if (!list) dependents.set(dep, (list = []));
      list.push(node.name);
      count++;
    }
    pending.set(node.name, count);
  }

  // Kahn's algorithm, one level at a time.
  const levels = new Map<string, number>();
  const groups: string[][] = [];
  let level = [...pending].filter(([, count]) => count === 0).map(([name]) => name);
  while (level.length > 0) {
    level.sort(compare);
    const index = groups.length;
    groups.push(level);
    const next: string[] = [];
    for (const name of level) {
      levels.set(name, index);
      for (const dependent of dependents.get(name) ?? []) {
        const left = pending.get(dependent)! - 1;
        pending.set(dependent, left);
        if (left === 0) next.push(dependent);
      }
    }
    level = next;
  }
  if (levels.size < known.size) throw cycleError(findCycle(nodes) ?? []);

  // Sorted by construction (sorting the edge objects costs several times more than sorting the names).
  const edges: Array<{ from: string; to: string }> = [];
  for (const from of [...dependents.keys()].sort(compare)) {
    for (const to of dependents.get(from)!.sort(compare)) edges.push({ from, to });
  }
  return { edges, groups, levels, missing: [...missing].sort(compare) };
}

/**
 * A cycle as a path along "depends on" (`[a, b, c, a]`: a depends on b, b on c, c on a), or null. The
 * search starts from names in sorted order, so the same graph always reports the same cycle.
 */
export function findCycle(nodes: readonly GraphInput[]): string[] | null {
  const deps = new Map(nodes.map((n) => [n.name, [...new Set(n.dependsOn)].sort(compare)]));
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of [...deps.keys()].sort(compare)) {
    if (state.has(start)) continue;
    // Iterative DFS: a path of 1,000 pipelines must not depend on the stack size.
    const path: string[] = [start];
    const cursor: number[] = [0];
    state.set(start, 1);
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const list = deps.get(top) ?? [];
      const i = cursor[cursor.length - 1]!;
      if (i >= list.length) {
        state.set(top, 2);
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[cursor.length - 1] = i + 1;
      const dep = list[i]!;
      if (!deps.has(dep)) continue;
      const s = state.get(dep);
      if (s === 1) return [...path.slice(path.indexOf(dep)), dep];
      if (s === undefined) {
        state.set(dep, 1);
        path.push(dep);
        cursor.push(0);
      }
    }
  }
  return null;
}

/** Throws TAU_E_DAG_CYCLE when giving `name` the dependencies `dependsOn` would close a cycle. */
export function assertAcyclic(nodes: readonly GraphInput[], name: string, dependsOn: readonly string[]): void {
  const changed = nodes.some((n) => n.name === name)
    ? nodes.map((n) => (n.name === name ? { name, dependsOn } : n))
    : [...nodes, { name, dependsOn }];
  const cycle = findCycle(changed);
  if (cycle) throw cycleError(rotateTo(cycle, name));
}

/** The same cycle, told from `name` when it is on it (the pipeline being changed reads first). */
function rotateTo(cycle: string[], name: string): string[] {
  const i = cycle.indexOf(name);
  if (i <= 0) return cycle;
  return [...cycle.slice(i, -1), ...cycle.slice(0, i), name];
}

/** `root` and every pipeline that depends on it, directly or not. */
export function downstreamOf(nodes: readonly GraphInput[], root: string): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      let list = dependents.get(dep);
      if (!list) dependents.set(dep, (list = []));
      list.push(node.name);
    }
  }
  const seen = new Set<string>([root]);
  const stack = [root];
  while (stack.length > 0) {
    for (const dependent of dependents.get(stack.pop()!) ?? []) {
      if (seen.has(dependent)) continue;
      seen.add(dependent);
      stack.push(dependent);
    }
  }
  return seen;
}

export function cycleError(cycle: string[]): TauError {
  const text = cycle.length > 1 ? cycle.map((n, i) => (i === 0 ? n : i === 1 ? `depends on ${n}` : `which depends on ${n}`)).join(", ") : "";
  return new TauError("TAU_E_DAG_CYCLE", `The dependencies would form a cycle: ${text}.`, { cycle });
}

/** Plain code-unit order: the same in every locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
