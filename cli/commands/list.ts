import { Command } from "clipanion";
import { TauCommand, type Outcome } from "./base";

export class ListCommand extends TauCommand {
  static override paths = [["list"]];
  static override usage = Command.Usage({
    description: "List deployed pipelines with their schedule and last run.",
    examples: [["List pipelines", "$0 list"]],
  });

  protected async run(): Promise<Outcome> {
    return { output: { pipelines: await this.client().listPipelines() } };
  }
}
