import { Command, Option } from "clipanion";
import { TauError, type RunView } from "../../server/contract";
import type { TauClient } from "../client";
import { DaemonError, usageError } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";

export class InspectCommand extends TauCommand {
  static override paths = [["inspect"]];
  static override usage = Command.Usage({
    description: "Show a pipeline (versions, schedule, last run), or one of its runs in full.",
    details: `
      Without flags: the pipeline's detail view. With --last-run: its most recent run, with steps, logs
      and error (error.line and error.column point into the file as written). With --run ID: that run.
      The exit code is 0 whenever the answer was printed, whatever the run's status.
    `,
    examples: [
      ["Pipeline detail", "$0 inspect orders_sync"],
      ["Why did the last run fail?", "$0 inspect orders_sync --last-run"],
      ["One run", "$0 inspect orders_sync --run 01J…"],
    ],
  });

  name = Option.String({ name: "NAME" });
  lastRun = Option.Boolean("--last-run", false, { description: "Show the most recent run" });
  runId = Option.String("--run", { description: "Show the run with this id" });

  protected async run(): Promise<Outcome> {
    if (this.lastRun && this.runId !== undefined) {
      throw usageError("--last-run and --run exclude each other.", { flags: ["--last-run", "--run"] });
    }
    const client = this.client();
    if (this.runId !== undefined) return { output: await runOfPipeline(client, this.name, this.runId) };
    if (this.lastRun) return { output: await client.lastRun(this.name) };
    return { output: await client.getPipeline(this.name) };
  }
}

/** GET /api/runs/:id, refusing a run that belongs to another pipeline than the one named. */
export async function runOfPipeline(client: TauClient, pipeline: string, runId: string): Promise<RunView> {
  const run = await client.getRun(runId);
  if (run.pipeline !== pipeline) {
    throw new DaemonError(
      404,
      new TauError("TAU_E_RUN_NOT_FOUND", `Run ${runId} belongs to pipeline ${run.pipeline}, not ${pipeline}.`, {
        runId,
        pipeline,
        actualPipeline: run.pipeline,
      }),
    );
  }
  return run;
}
