import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "clipanion";
import type { DagTextView, DagView, GraphRunView } from "../../server/contract";
import { EXIT, usageError } from "../exit-codes";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

/** How long one POST asks the daemon to hold the answer; longer waits continue by polling. */
const WAIT_CHUNK_MS = 30_000;
const POLL_MIN_MS = 200;
const POLL_MAX_MS = 1_000;
const FORMATS = ["json", "mermaid", "dot"] as const;

export class DagCommand extends TauCommand {
  static override paths = [["dag"]];
  static override usage = Command.Usage({
    description: "Show the pipeline DAG, or run it (`tau dag run`).",
    details: `
      \`tau dag\` prints {nodes, edges, groups, missing}: groups are the topological levels, whose
      pipelines may run in parallel. --format mermaid|dot prints {format, text} instead, a picture to
      render. \`tau dag run\` runs the graph (or, with --from NAME, NAME and everything downstream of it)
      level by level, each pipeline as soon as its dependencies have succeeded; a pipeline whose upstream
      did not succeed gets a run recorded \`skipped\` naming it (error.details.upstream). It waits and
      prints the graph run (GraphRunView); exit 0 only when every pipeline succeeded. --detach prints the
      started graph run at once.
    `,
    examples: [
      ["Show the graph", "$0 dag"],
      ["A Mermaid picture", "$0 dag --format mermaid"],
      ["Run the whole graph", "$0 dag run"],
      ["Run stage_orders and everything downstream", "$0 dag run --from stage_orders"],
    ],
  });

  action = Option.String({ name: "run", required: false });
  format = Option.String("--format", { description: "json (default), mermaid or dot" });
  from = Option.String("--from", { description: "With run: start at this pipeline (it and everything downstream)" });
  detach = Option.Boolean("--detach", false, { description: "With run: print the started graph run without waiting" });
  timeout = Option.String("--timeout", { description: "With run: stop waiting after SEC seconds (the graph run goes on)" });

  protected async run(): Promise<Outcome> {
    if (this.action !== undefined && this.action !== "run") {
      throw usageError(`tau dag: unknown action ${JSON.stringify(this.action)}; the only one is \`run\`.`, { action: this.action });
    }
    if (this.action === "run") return this.runGraph();
    const runOnly = [this.from !== undefined && "--from", this.detach && "--detach", this.timeout !== undefined && "--timeout"].filter(Boolean);
    if (runOnly.length > 0) throw usageError(`tau dag: ${runOnly.join(", ")} only apply to \`tau dag run\`.`, { flags: runOnly });
    const format = this.format ?? "json";
    if (!(FORMATS as readonly string[]).includes(format)) throw usageError(`--format expects json, mermaid or dot, got ${JSON.stringify(format)}.`, { flag: "--format", value: format });
    return { output: await this.client().request<DagView | DagTextView>("GET", "/api/dag", { format }) };
  }

  private async runGraph(): Promise<Outcome> {
    if (this.format !== undefined) throw usageError("tau dag run: --format only applies to `tau dag`.", { flag: "--format" });
    const timeoutSec = parseNumberFlag("--timeout", this.timeout, { min: 0, integer: false });
    const client = this.client();
    const body = this.from === undefined ? {} : { from: this.from };
    if (this.detach) return { output: await client.request<GraphRunView>("POST", "/api/dag/runs", undefined, { ...body, wait: false }) };

    const deadline = timeoutSec === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutSec * 1000;
    const waitMs = Math.min(WAIT_CHUNK_MS, remaining(deadline));
    let run = await client.request<GraphRunView>("POST", "/api/dag/runs", undefined, waitMs > 0 ? { ...body, wait: true, waitMs } : { ...body, wait: false });
    if (run.status === "running" && remaining(deadline) > 0) {
      this.hint(`graph run ${run.id} is running; waiting for it to end`);
      let pause = POLL_MIN_MS;
      while (run.status === "running" && remaining(deadline) > 0) {
        await sleep(Math.min(pause, remaining(deadline)));
        pause = Math.min(pause * 2, POLL_MAX_MS);
        run = await client.request<GraphRunView>("GET", `/api/dag/runs/${encodeURIComponent(run.id)}`);
      }
    }
    if (run.status === "running") this.hint(`stopped waiting after --timeout ${timeoutSec}s; graph run ${run.id} is still running`);
    return { output: run, exitCode: run.status === "succeeded" ? EXIT.ok : EXIT.runNotSucceeded };
  }
}

function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}
