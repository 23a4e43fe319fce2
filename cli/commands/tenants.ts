import { Command, Option } from "clipanion";
import { usageError } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";
import { actionOf } from "./hosted-input";

export class TenantsCommand extends TauCommand {
  static override paths = [["tenants"]];
  static override usage = Command.Usage({
    description: "List the tenants of a hosted instance, or create one (admin token).",
    details: `
      \`tau tenants\` or \`tau tenants list\` prints the tenants the token may see: every tenant for a
      platform admin (an admin of the instance's admin tenant, TAU_ADMIN_TENANT, default "admin"), its own
      for a tenant admin. \`tau tenants create ID [--name NAME]\` creates a tenant (platform admin only); its
      policy starts as the hosted default (deny egress) — see \`tau policy\`. Then issue it a token with
      \`tau tokens issue --tenant ID --role admin\`. See docs/hosted.md.
    `,
    examples: [
      ["List tenants", "$0 tenants"],
      ["Create a tenant", "$0 tenants create acme --name 'Acme Corp'"],
    ],
  });

  action = Option.String({ name: "ACTION", required: false });
  id = Option.String({ name: "ID", required: false });
  name = Option.String("--name", { description: "Display name of a new tenant (default: its id)" });

  protected async run(): Promise<Outcome> {
    const action = actionOf("tenants", this.action, ["list", "create"] as const, "list");
    const client = this.client();
    if (action === "list") return { output: { tenants: await client.request("GET", "/api/tenants") } };
    if (this.id === undefined) throw usageError("tau tenants create: give the new tenant's ID.", { missing: "ID" });
    const body = this.name === undefined ? { id: this.id } : { id: this.id, name: this.name };
    return { output: await client.request("POST", "/api/tenants", undefined, body) };
  }
}
