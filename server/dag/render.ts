/**
 * The graph as text for a picture: Mermaid (renders in GitHub, most Markdown viewers) or Graphviz dot.
 * Edges point from a pipeline to the ones that depend on it (the order runs happen in).
 */
import type { DagView } from "../contract";

export type DagFormat = "mermaid" | "dot";

export function renderDag(view: DagView, format: DagFormat): string {
  return format === "mermaid" ? mermaid(view) : dot(view);
}

function mermaid(view: DagView): string {
  // Node ids are positional: pipeline names may contain '-', which Mermaid reads as part of an arrow.
  const ids = new Map(view.nodes.map((n, i) => [n.name, `n${i}`]));
  view.missing.forEach((name, i) => ids.set(name, `m${i}`));
  const lines = ["flowchart LR"];
  for (const node of view.nodes) {
    const label = node.schedule ? `${node.name}<br/><small>${node.schedule}</small>` : node.name;
    lines.push(`  ${ids.get(node.name)}["${label}"]`);
    if (node.lastStatus) lines.push(`  class ${ids.get(node.name)} ${node.lastStatus}`);
  }
  for (const name of view.missing) lines.push(`  ${ids.get(name)}["${name} (not deployed)"]:::missing`);
  for (const edge of view.edges) lines.push(`  ${ids.get(edge.from)} --> ${ids.get(edge.to)}`);
  for (const node of view.nodes) {
    for (const dep of node.dependsOn) if (view.missing.includes(dep)) lines.push(`  ${ids.get(dep)} -.-> ${ids.get(node.name)}`);
  }
  lines.push(
    "  classDef succeeded fill:#d1fadf,stroke:#12b76a",
    "  classDef failed fill:#fee4e2,stroke:#f04438",
    "  classDef skipped fill:#f2f4f7,stroke:#98a2b3",
    "  classDef cancelled fill:#f2f4f7,stroke:#98a2b3",
    "  classDef running fill:#d1e9ff,stroke:#2e90fa",
    "  classDef queued fill:#d1e9ff,stroke:#2e90fa",
    "  classDef missing stroke-dasharray:4 4",
  );
  return `${lines.join("\n")}\n`;
}

const DOT_COLORS: Record<string, string> = {
  succeeded: "#d1fadf",
  failed: "#fee4e2",
  skipped: "#f2f4f7",
  cancelled: "#f2f4f7",
  running: "#d1e9ff",
  queued: "#d1e9ff",
};

function dot(view: DagView): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = ["digraph tau {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];'];
  for (const node of view.nodes) {
    const label = node.schedule ? `${node.name}\\n${node.schedule}` : node.name;
    const fill = node.lastStatus ? `, fillcolor=${q(DOT_COLORS[node.lastStatus]!)}` : "";
    lines.push(`  ${q(node.name)} [label="${label.replace(/"/g, '\\"')}"${fill}];`);
  }
  for (const name of view.missing) lines.push(`  ${q(name)} [label=${q(`${name} (not deployed)`)}, style="rounded,dashed"];`);
  for (const edge of view.edges) lines.push(`  ${q(edge.from)} -> ${q(edge.to)};`);
  for (const node of view.nodes) {
    for (const dep of node.dependsOn) if (view.missing.includes(dep)) lines.push(`  ${q(dep)} -> ${q(node.name)} [style=dashed];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
