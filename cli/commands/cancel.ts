import { Command, Option } from "clipanion";
import { EXIT } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";

export class CancelCommand extends TauCommand {
  static override paths = [["cancel"]];
  static override usage = Command.Usage({
    description: "Cancel a run: a queued run or pending retry at once, a running one within about a second.",
    details: `
      Prints the run (RunView) after the cancel. A running run's isolate is disposed and the run recorded
      \`cancelled\` (error TAU_E_RUN_CANCELLED); a cancelled run is never retried. Given an attempt that
      failed and whose retry is pending, the pending retry is cancelled (the printed run is that retry).
      Exit 0 when the run is now \`cancelled\`; 1 when it ended some other way before the cancel reached it
      (stdout still holds the run). A run that had already finished is TAU_E_RUN_ALREADY_FINISHED, exit 3.
    `,
    examples: [["Stop a run", "$0 cancel run_01JKX4Q6V1N3Z8M5T2R7C9B0DA"]],
  });

  runId = Option.String({ name: "RUN_ID" });

  protected async run(): Promise<Outcome> {
    const run = await this.client().cancelRun(this.runId);
    if (run.status !== "cancelled") {
      this.hint(`run ${run.id} is ${run.status}: it ${run.status === "running" ? "has not stopped yet" : "ended before the cancel reached it"}`);
    }
    return { output: run, exitCode: run.status === "cancelled" ? EXIT.ok : EXIT.runNotSucceeded };
  }
}
