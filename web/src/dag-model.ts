/**
 * The DAG the dashboard draws when the daemon does not serve GET /api/dag: derived from each pipeline's
 * dependsOn, with the parallel groups as longest-path levels from the roots (a pipeline's group is one
 * more than its deepest dependency's). Pure: no DOM, tested in Node.
 */
import type { DagView } from "./api";

export function deriveDag(pipelines: Array<{ name: string; dependsOn: string[]; schedule: string | null; lastRun: { status: string } | null }>): DagView {
  const names = new Set(pipelines.map((p) => p.name));
  const nodes = pipelines.map((p) => ({ name: p.name, dependsOn: p.dependsOn, schedule: p.schedule, lastStatus: p.lastRun?.status ?? null }));
  const edges = pipelines.flatMap((p) => p.dependsOn.filter((d) => names.has(d)).map((d) => ({ from: d, to: p.name })));
  const level = new Map<string, number>();
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const visit = (name: string, stack: Set<string>): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (stack.has(name)) return 0; // a cycle: deploy refuses those, but never loop on one
    stack.add(name);
    const deps = (byName.get(name)?.dependsOn ?? []).filter((d) => names.has(d));
    const l = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => visit(d, stack)));
    stack.delete(name);
    level.set(name, l);
    return l;
  };
  for (const n of nodes) visit(n.name, new Set());
  const groups: string[][] = [];
  for (const [name, l] of [...level].sort((a, b) => a[0].localeCompare(b[0]))) (groups[l] ??= []).push(name);
  const missing = [...new Set(pipelines.flatMap((p) => p.dependsOn.filter((d) => !names.has(d))))].sort();
  return { nodes, edges, groups: groups.filter(Boolean), missing };
}
