import { Command, Option } from "clipanion";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

export class ErrorsCommand extends TauCommand {
  static override paths = [["errors"]];
  static override usage = Command.Usage({
    description: "List recent failed runs across all pipelines, newest first.",
    examples: [["The last 20 failures", "$0 errors --limit 20"]],
  });

  limit = Option.String("--limit", { description: "How many failures to list (daemon default when omitted)" });

  protected async run(): Promise<Outcome> {
    const limit = parseNumberFlag("--limit", this.limit, { min: 1 });
    return { output: { errors: await this.client().errors(limit) } };
  }
}
