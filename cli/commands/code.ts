import { Command, Option } from "clipanion";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

export class CodeCommand extends TauCommand {
  static override paths = [["code"]];
  static override usage = Command.Usage({
    description: "Print a pipeline's source as deployed (current version unless --version).",
    examples: [
      ["Current source", "$0 code orders_sync"],
      ["Source of version 2", "$0 code orders_sync --version 2"],
    ],
  });

  name = Option.String({ name: "NAME" });
  version = Option.String("--version", { description: "Version number (default: current)" });

  protected async run(): Promise<Outcome> {
    const version = parseNumberFlag("--version", this.version, { min: 1 });
    return { output: await this.client().getCode(this.name, version) };
  }
}
