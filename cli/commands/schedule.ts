import { Command, Option } from "clipanion";
import type { ScheduleRequest, ScheduleView } from "../../server/contract";
import { usageError } from "../exit-codes";
import { parseNumberFlag } from "../flags";
import { TauCommand, type Outcome } from "./base";

export class ScheduleCommand extends TauCommand {
  static override paths = [["schedule"]];
  static override usage = Command.Usage({
    description: "Show or change a pipeline's schedule: a cron expression (with a time zone) or an interval.",
    details: `
      Without options, prints the schedule in effect (ScheduleView). A cron expression or --every set by
      this command wins over the file's \`schedule\` until a deploy changes the file's schedule; --reset
      returns to the file's. Cron expressions are read in UTC unless --tz names an IANA time zone.
      --disable stops scheduled fires (manual runs still work); --enable plans the next fire from now.
      A fire is skipped while a run of the pipeline is queued or running, unless --allow-overlap.
      After downtime, the daemon fires at most --catch-up runs (default 1) for the fires it missed.
    `,
    examples: [
      ["Show the schedule", "$0 schedule orders_sync"],
      ["Daily at 06:00 Berlin time", `$0 schedule orders_sync "0 6 * * *" --tz Europe/Berlin`],
      ["Every hour", "$0 schedule orders_sync --every 3600"],
      ["Pause it", "$0 schedule orders_sync --disable"],
      ["Back to the file's schedule", "$0 schedule orders_sync --reset"],
    ],
  });

  name = Option.String({ name: "NAME" });
  cron = Option.String({ name: "CRON", required: false });
  tz = Option.String("--tz", { description: "IANA time zone of the cron expression (default UTC)" });
  every = Option.String("--every", { description: "Fire every SEC seconds instead of a cron expression" });
  disable = Option.Boolean("--disable", false, { description: "Stop scheduled fires" });
  enable = Option.Boolean("--enable", false, { description: "Resume scheduled fires" });
  reset = Option.Boolean("--reset", false, { description: "Return to the file's schedule" });
  allowOverlap = Option.Boolean("--allow-overlap", { description: "Fire even while a run is queued or running (--no-allow-overlap: skip)" });
  catchUp = Option.String("--catch-up", { description: "Runs to fire after downtime for missed fires (0-100, default 1)" });

  protected async run(): Promise<Outcome> {
    if (this.disable && this.enable) throw usageError("tau schedule: give --enable or --disable, not both.", { flags: ["--enable", "--disable"] });
    const request: ScheduleRequest = {};
    if (this.cron !== undefined) request.cron = this.cron;
    if (this.tz !== undefined) request.timezone = this.tz;
    const every = parseNumberFlag("--every", this.every, { min: 1 });
    if (every !== undefined) request.everySec = every;
    if (this.disable) request.enabled = false;
    if (this.enable) request.enabled = true;
    if (this.reset) request.reset = true;
    if (this.allowOverlap !== undefined) request.allowOverlap = this.allowOverlap;
    const catchUp = parseNumberFlag("--catch-up", this.catchUp, { min: 0 });
    if (catchUp !== undefined) request.catchUp = catchUp;

    const path = `/api/pipelines/${encodeURIComponent(this.name)}/schedule`;
    const client = this.client();
    const output =
      Object.keys(request).length === 0 ? await client.request<ScheduleView>("GET", path) : await client.request<ScheduleView>("POST", path, undefined, request);
    return { output };
  }
}
