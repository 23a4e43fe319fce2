import { Command } from "clipanion";
import { TauCommand, type Outcome } from "./base";

export class StatusCommand extends TauCommand {
  static override paths = [["status"]];
  static override usage = Command.Usage({
    description: "Show the daemon's health: mode, uptime, queued and running runs, executor processes.",
    examples: [["Daemon status", "$0 status"]],
  });

  protected async run(): Promise<Outcome> {
    return { output: await this.client().status() };
  }
}
