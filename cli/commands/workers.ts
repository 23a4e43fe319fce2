import { Command } from "clipanion";
import { TauCommand, type Outcome } from "./base";

export class WorkersCommand extends TauCommand {
  static override paths = [["workers"]];
  static override usage = Command.Usage({
    description: "Show the worker processes runs execute on: id, host, pid, capacity, running runs, last heartbeat, state.",
    details: "Empty (runsOn: local) when the daemon runs pipelines on its own executors. In hosted mode host and pid are shown to platform admins only, and running counts only your tenant's runs.",
    examples: [["List workers", "$0 workers"]],
  });

  protected async run(): Promise<Outcome> {
    return { output: await this.client().workers() };
  }
}
