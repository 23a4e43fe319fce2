import { Command, Option } from "clipanion";
import type { DependsRequest, DependsView } from "../../server/contract";
import { usageError } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";

export class DependsCommand extends TauCommand {
  static override paths = [["depends"]];
  static override usage = Command.Usage({
    description: "Show or set the pipelines a pipeline depends on (its upstreams in the DAG).",
    details: `
      Without options, prints the dependencies in effect, the pipelines that depend on this one, and
      dependencies that are not deployed (DependsView). --on replaces the dependencies (repeat it for
      several); --clear removes them all; --reset returns to the file's \`dependsOn\`. What this command sets
      wins over the file's dependsOn until a deploy changes the file's. A change that would close a cycle
      is refused with TAU_E_DAG_CYCLE and the cycle's path in details.cycle. Depending on a pipeline that
      is not deployed yet is allowed: it is listed under missing, and graph runs skip this pipeline until
      it exists.
    `,
    examples: [
      ["Show dependencies", "$0 depends fct_orders"],
      ["Set dependencies", "$0 depends fct_orders --on stage_orders --on dim_customers"],
      ["Remove all", "$0 depends fct_orders --clear"],
    ],
  });

  name = Option.String({ name: "NAME" });
  on = Option.Array("--on", { description: "A pipeline this one depends on (repeatable); replaces the current list" });
  clear = Option.Boolean("--clear", false, { description: "Depend on nothing" });
  reset = Option.Boolean("--reset", false, { description: "Return to the file's dependsOn" });

  protected async run(): Promise<Outcome> {
    const given = [this.on !== undefined, this.clear, this.reset].filter(Boolean).length;
    if (given > 1) throw usageError("tau depends: give one of --on, --clear or --reset.", { flags: ["--on", "--clear", "--reset"] });
    const path = `/api/pipelines/${encodeURIComponent(this.name)}/depends`;
    const client = this.client();
    if (given === 0) return { output: await client.request<DependsView>("GET", path) };
    const body: DependsRequest = this.reset ? { reset: true } : { dependsOn: this.clear ? [] : this.on! };
    return { output: await client.request<DependsView>("POST", path, undefined, body) };
  }
}
