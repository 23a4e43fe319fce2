import { Command, Option } from "clipanion";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

export class RollbackCommand extends TauCommand {
  static override paths = [["rollback"]];
  static override usage = Command.Usage({
    description: "Make an earlier version of a pipeline current again (the previous one unless --to).",
    details: `
      Moves the pipeline's current-version pointer; no version is written, so \`tau code NAME --version N\`
      still shows what each deploy stored. The version's meta comes with it (schedule, timeoutSec, retries,
      maxConcurrentRuns, …). Runs queued from now on run that version and record it. Without --to: the
      newest version older than the current one, so repeated rollbacks walk back one version at a time.
      Prints {pipeline, from, to, changed}; changed is false when the version was already current.
    `,
    examples: [
      ["Back to the previous version", "$0 rollback orders_sync"],
      ["Back to version 2", "$0 rollback orders_sync --to 2"],
    ],
  });

  name = Option.String({ name: "NAME" });
  to = Option.String("--to", { description: "The version to make current (default: the previous one)" });

  protected async run(): Promise<Outcome> {
    const to = parseNumberFlag("--to", this.to, { min: 1 });
    return { output: await this.client().rollback(this.name, to) };
  }
}
