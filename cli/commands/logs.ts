import { Command, Option } from "clipanion";
import { TERMINAL_RUN_STATUSES, type RunStatus, type RunView } from "../../server/contract";
import { EXIT, exitCodeFor, toTauError } from "../exit-codes";
import { followRun } from "../follow";
import { errorDocument, writeLine } from "../output";
import { TauCommand, type Outcome, type Streamed } from "./base";
import { runOfPipeline } from "./inspect";

export class LogsCommand extends TauCommand {
  static override paths = [["logs"]];
  static override usage = Command.Usage({
    description: "Print a run's log lines (the last run unless --run), or stream its events with --follow.",
    details: `
      Without --follow: one JSON document {pipeline, runId, status, logs}.

      With --follow: the one exception to "one JSON document": one compact JSON event per line (NDJSON),
      in seq order, from the run's first event until its run.finished event. A dropped connection is
      resumed from the last seq seen. The exit code then mirrors the run: 0 when it succeeded, 1 otherwise.
      A failure while following prints one {"error": …} line and exits as usual.
    `,
    examples: [
      ["Logs of the last run", "$0 logs orders_sync"],
      ["Follow a run to its end", "$0 logs orders_sync --run 01J… --follow"],
    ],
  });

  name = Option.String({ name: "NAME" });
  runId = Option.String("--run", { description: "The run (default: the pipeline's most recent run)" });
  follow = Option.Boolean("--follow", false, { description: "Stream events as NDJSON until the run ends" });

  protected async run(): Promise<Outcome | Streamed> {
    const client = this.client();
    const run: RunView =
      this.runId === undefined ? await client.lastRun(this.name) : await runOfPipeline(client, this.name, this.runId);
    if (!this.follow) {
      return { output: { pipeline: run.pipeline, runId: run.id, status: run.status, logs: run.logs } };
    }

    const stdout = this.context.stdout;
    try {
      const finished = await followRun({ client, runId: run.id, onEvent: (event) => writeLine(stdout, event) });
      let status: unknown = finished.data?.status;
      if (typeof status !== "string" || !TERMINAL_RUN_STATUSES.includes(status as RunStatus)) {
        status = (await client.getRun(run.id)).status;
      }
      return { streamed: true, exitCode: status === "succeeded" ? EXIT.ok : EXIT.runNotSucceeded };
    } catch (err) {
      const error = toTauError(err);
      writeLine(stdout, errorDocument(error.toBody()));
      return { streamed: true, exitCode: exitCodeFor(error) };
    }
  }
}
