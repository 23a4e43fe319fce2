import { Command, Option } from "clipanion";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

export class ErrorsCommand extends TauCommand {
  static override paths = [["errors"]];
  static override usage = Command.Usage({
    description: "List recent failed runs across all pipelines (or one), newest first.",
    details: `
      Each entry is a run summary: error.code, error.step, error.line/column (in the file as written) and
      error.hint say what failed, where, and what to do. Every failed attempt is listed; one that was
      retried has retriedBy set (see \`tau inspect NAME --run ID\` for the retry).
    `,
    examples: [
      ["The last 20 failures", "$0 errors --limit 20"],
      ["Failures of one pipeline", "$0 errors --pipeline orders_sync"],
    ],
  });

  limit = Option.String("--limit", { description: "How many failures to list (daemon default when omitted)" });
  pipeline = Option.String("--pipeline", { description: "Only this pipeline's failures" });

  protected async run(): Promise<Outcome> {
    const limit = parseNumberFlag("--limit", this.limit, { min: 1 });
    return { output: { errors: await this.client().errors(limit, this.pipeline) } };
  }
}
