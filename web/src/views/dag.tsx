/**
 * The pipeline graph laid out by dagre (left to right: a pipeline after what it depends on), nodes coloured
 * by their last run's status, the parallel groups (pipelines that can run at the same time) drawn as
 * labelled bands. Nodes are links: click, Enter or Space opens the pipeline.
 *
 * Uses GET /api/dag when the daemon serves it; otherwise derives the same graph from each pipeline's
 * dependsOn (groups: longest-path levels from the roots).
 */
import dagre from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";
import { api, type DagView } from "../api";
import { deriveDag } from "../dag-model";
import { ErrorBox, Loading } from "../components/error-box";
import { useLiveRefresh, useLoad } from "../hooks";
import { href, navigate } from "../router";
import { RUN_KINDS } from "./pipelines";

const NODE_W = 180;
const NODE_H = 52;

async function loadDag(): Promise<DagView & { derived: boolean }> {
  const served = await api.dag();
  if (served) return { ...served, derived: false };
  return { ...deriveDag(await api.pipelines()), derived: true };
}

interface Layout {
  width: number;
  height: number;
  nodes: Array<{ name: string; x: number; y: number; status: string; schedule: string | null }>;
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }> }>;
  bands: Array<{ index: number; x: number; y: number; w: number; h: number; names: string[] }>;
}

const COL_GAP = 90;
const ROW_GAP = 26;
const MARGIN = 24;
const BAND_HEAD = 26;

/**
 * dagre orders the nodes (rank assignment and crossing minimisation); then each parallel group becomes one
 * column, its nodes stacked in dagre's order, so a group's band is a clean column whatever ranker dagre
 * used. A node in no group keeps dagre's rank as its column.
 */
function layout(dag: DagView): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: ROW_GAP, ranksep: COL_GAP });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of dag.nodes) g.setNode(n.name, { width: NODE_W, height: NODE_H });
  for (const e of dag.edges) if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to);
  dagre.layout(g);

  const column = new Map<string, number>();
  dag.groups.forEach((names, i) => names.forEach((n) => column.set(n, i)));
  const columnOf = (name: string): number => column.get(name) ?? Math.round((g.node(name).x - NODE_W / 2) / (NODE_W + COL_GAP));
  const columns = new Map<number, string[]>();
  for (const n of dag.nodes) {
    const c = columnOf(n.name);
    columns.set(c, [...(columns.get(c) ?? []), n.name]);
  }
  const tallest = Math.max(...[...columns.values()].map((c) => c.length));
  const innerH = tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [c, names] of columns) {
    names.sort((a, b) => g.node(a).y - g.node(b).y);
    const h = names.length * NODE_H + (names.length - 1) * ROW_GAP;
    const top = MARGIN + BAND_HEAD + (innerH - h) / 2;
    names.forEach((name, i) => pos.set(name, { x: MARGIN + 10 + c * (NODE_W + COL_GAP) + NODE_W / 2, y: top + i * (NODE_H + ROW_GAP) + NODE_H / 2 }));
  }
  const nodes = dag.nodes.map((n) => ({ name: n.name, ...pos.get(n.name)!, status: n.lastStatus ?? "never", schedule: n.schedule }));
  const edges = dag.edges
    .filter((e) => pos.has(e.from) && pos.has(e.to))
    .map((e) => {
      const a = pos.get(e.from)!;
      const b = pos.get(e.to)!;
      return { from: e.from, to: e.to, points: [{ x: a.x + NODE_W / 2, y: a.y }, { x: b.x - NODE_W / 2, y: b.y }] };
    });
  const bands = [...columns.entries()]
    .filter(([c]) => dag.groups[c] !== undefined)
    .map(([c, names]) => {
      const ys = names.map((n) => pos.get(n)!.y);
      const x = MARGIN + c * (NODE_W + COL_GAP);
      const y = Math.min(...ys) - NODE_H / 2 - BAND_HEAD;
      return { index: c, x, y, w: NODE_W + 20, h: Math.max(...ys) - Math.min(...ys) + NODE_H + BAND_HEAD + 10, names };
    });
  const width = MARGIN * 2 + 20 + (Math.max(...columns.keys()) + 1) * (NODE_W + COL_GAP) - COL_GAP;
  return { width, height: MARGIN * 2 + BAND_HEAD + innerH + 10, nodes, edges, bands };
}

/** A horizontal S-curve from the right side of one node to the left side of the next. */
function path(points: Array<{ x: number; y: number }>): string {
  const [a, b] = [points[0], points[points.length - 1]];
  const dx = Math.max(30, (b.x - a.x) / 2);
  return `M${a.x},${a.y} C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x - 2},${b.y}`;
}

export function DagView() {
  const dag = useLoad(loadDag, []);
  useLiveRefresh({ all: true }, RUN_KINDS, () => dag.reload());
  const l = useMemo(() => (dag.data ? layout(dag.data) : null), [dag.data]);

  return (
    <section aria-labelledby="dag-title">
      <h1 id="dag-title">Pipeline graph</h1>
      <p class="muted">
        Arrows point from a pipeline to the pipelines that depend on it. Dashed bands are parallel groups: pipelines in one group can run at the
        same time.
        {dag.data?.derived && " (Derived from each pipeline's dependsOn.)"}
      </p>
      {dag.error && <ErrorBox error={dag.error.body} />}
      {!dag.data && !dag.error && <Loading what="graph" />}
      {dag.data && dag.data.nodes.length === 0 && <p class="empty">No pipelines yet.</p>}
      {l && l.nodes.length > 0 && (
        <div class="dag-scroll">
          <svg
            class="dag"
            width={l.width}
            height={l.height}
            viewBox={`0 0 ${l.width} ${l.height}`}
            role="group"
            aria-label={`Pipeline graph: ${l.nodes.length} pipelines, ${l.edges.length} dependencies, ${l.bands.length} groups`}
          >
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
              </marker>
            </defs>
            {l.bands.map((b) => (
              <g key={b.index} class="band" aria-label={`Group ${b.index + 1}: ${b.names.join(", ")}`} role="group">
                <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={8} />
                <text x={b.x + 8} y={b.y + 16}>
                  group {b.index + 1}
                </text>
              </g>
            ))}
            {l.edges.map((e) => (
              <path key={`${e.from}->${e.to}`} class="edge" d={path(e.points)} marker-end="url(#arrow)" aria-hidden="true" />
            ))}
            {l.nodes.map((n) => {
              const open = (): void => navigate(href.pipeline(n.name));
              return (
                <g
                  key={n.name}
                  class={`node status-${n.status}`}
                  transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`}
                  role="link"
                  // lowercase: on SVG elements preact sets attributes verbatim, and only `tabindex` makes them focusable
                  tabindex={0}
                  aria-label={`${n.name}, last run ${n.status === "never" ? "never" : n.status}`}
                  data-node={n.name}
                  onClick={open}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      open();
                    }
                  }}
                >
                  <rect width={NODE_W} height={NODE_H} rx={6} />
                  <text x={12} y={22} class="node-name">
                    {n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name}
                  </text>
                  <text x={12} y={40} class="node-sub">
                    {n.status === "never" ? "never run" : n.status}
                    {n.schedule ? ` · ${n.schedule}` : ""}
                  </text>
                </g>
              );
            })}
          </svg>
        </div>
      )}
      {dag.data?.missing && dag.data.missing.length > 0 && (
        <p class="warn-note" role="note">
          Depended on but not deployed (their dependents wait for them): {dag.data.missing.join(", ")}
        </p>
      )}
      <p class="legend">
        {["succeeded", "failed", "running", "queued", "cancelled", "never"].map((s) => (
          <span key={s} class={`legend-item status-${s}`}>
            <span class="swatch" aria-hidden="true" /> {s === "never" ? "never run" : s}
          </span>
        ))}
      </p>
    </section>
  );
}
