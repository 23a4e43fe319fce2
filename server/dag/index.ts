/**
 * The pipeline DAG: resolving dependencies into parallel groups (graph.ts), pictures (render.ts), graph runs
 * (graph-run.ts) and the service the daemon and HTTP routes use (service.ts). docs/scheduling.md.
 */
export { DagService, type DagServiceOptions } from "./service";
export { resolveGraph, findCycle, assertAcyclic, downstreamOf, cycleError, type GraphInput, type ResolvedGraph } from "./graph";
export { renderDag, type DagFormat } from "./render";
export type { GraphRunsPort } from "./graph-run";
