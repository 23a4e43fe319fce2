import { Command, Option } from "clipanion";
import { usageError } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";
import { actionOf, parseJsonDocument, readStdin, readTextFile } from "./hosted-input";

export class PolicyCommand extends TauCommand {
  static override paths = [["policy"]];
  static override usage = Command.Usage({
    description: "Show or replace a tenant's policy: connectors, egress, secrets, limits.",
    details: `
      \`tau policy\` or \`tau policy get\` prints {tenant, source, policy}: the stored policy, or the mode's
      default (hosted: deny egress, duckdb_local only; local: allow everything). \`tau policy set FILE\` (or
      --stdin) replaces it with a whole JSON policy document, validated against the schema in
      docs/policies.md; runs started afterwards use it. Setting policies takes a platform admin token;
      --tenant T reads or sets another tenant's (platform admin). Start from \`tau policy get\`.
    `,
    examples: [
      ["Show your policy", "$0 policy"],
      ["Set a tenant's policy", "$0 policy set acme-policy.json --tenant acme"],
      ["From stdin", "jq '.policy' current.json | $0 policy set --stdin"],
    ],
  });

  action = Option.String({ name: "ACTION", required: false });
  file = Option.String({ name: "FILE", required: false });
  stdin = Option.Boolean("--stdin", false, { description: "Read the policy document from stdin" });
  tenant = Option.String("--tenant", { description: "Another tenant (platform admin)" });

  protected async run(): Promise<Outcome> {
    const action = actionOf("policy", this.action, ["get", "set"] as const, "get");
    const query = { tenant: this.tenant };
    const client = this.client();
    if (action === "get") return { output: await client.request("GET", "/api/policy", query) };
    if ((this.file === undefined) === !this.stdin) throw usageError("tau policy set: give FILE or --stdin (one of them).", { flags: ["FILE", "--stdin"] });
    const text = this.stdin ? await readStdin(this.context.stdin) : await readTextFile(this.file!);
    const document = parseJsonDocument(text, this.stdin ? "stdin" : this.file!);
    // `tau policy get` output is accepted as is: its policy field is the document.
    const policy = isView(document) ? document.policy : document;
    return { output: await client.request("PUT", "/api/policy", query, policy) };
  }
}

function isView(value: unknown): value is { policy: unknown } {
  return typeof value === "object" && value !== null && "policy" in value && "source" in value && "tenant" in value;
}
