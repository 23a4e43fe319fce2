import { Command, Option } from "clipanion";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

export class RunsCommand extends TauCommand {
  static override paths = [["runs"]];
  static override usage = Command.Usage({
    description: "List a pipeline's runs, newest first (no steps or logs; see `tau inspect NAME --run ID`).",
    examples: [["The last 10 runs", "$0 runs orders_sync --last 10"]],
  });

  name = Option.String({ name: "NAME" });
  last = Option.String("--last", { description: "How many runs to list (daemon default when omitted)" });

  protected async run(): Promise<Outcome> {
    const last = parseNumberFlag("--last", this.last, { min: 1 });
    return { output: { pipeline: this.name, runs: await this.client().listRuns(this.name, last) } };
  }
}
