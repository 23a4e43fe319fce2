import { Command, Option } from "clipanion";
import { usageError } from "../exit-codes";
import { TauCommand, type Outcome } from "./base";
import { actionOf, readStdin } from "./hosted-input";

export class SecretsCommand extends TauCommand {
  static override paths = [["secrets"]];
  static override usage = Command.Usage({
    description: "List, set or delete your tenant's stored secrets (what ctx.secret reads).",
    details: `
      \`tau secrets\` or \`tau secrets list\` prints {secrets: [{name, createdAt, updatedAt}]}: names only,
      values never leave the daemon. \`tau secrets set NAME --stdin\` (preferred: the value stays out of
      shell history and process lists) or \`--value V\` stores a secret, encrypted with the daemon's
      TAU_SECRET_KEY; \`tau secrets delete NAME\` removes it. A run reads only the secrets its tenant's
      policy allows (policy.secrets). Locally, ctx.secret also reads taud's environment; a stored secret
      wins over a variable of the same name. Needs an operator token in hosted mode.
    `,
    examples: [
      ["List secret names", "$0 secrets"],
      ["Store a DSN from stdin", "printf %s \"$DSN\" | $0 secrets set WAREHOUSE_DSN --stdin"],
      ["Delete one", "$0 secrets delete WAREHOUSE_DSN"],
    ],
  });

  action = Option.String({ name: "ACTION", required: false });
  name = Option.String({ name: "NAME", required: false });
  value = Option.String("--value", { description: "The value (visible in shell history: prefer --stdin)" });
  stdin = Option.Boolean("--stdin", false, { description: "Read the value from stdin (one trailing newline dropped)" });

  protected async run(): Promise<Outcome> {
    const action = actionOf("secrets", this.action, ["list", "set", "delete"] as const, "list");
    const client = this.client();
    if (action === "list") return { output: { secrets: await client.request("GET", "/api/secrets") } };
    if (this.name === undefined) throw usageError(`tau secrets ${action}: give the secret's NAME.`, { missing: "NAME" });
    const path = `/api/secrets/${encodeURIComponent(this.name)}`;
    if (action === "delete") return { output: await client.request("DELETE", path) };
    if ((this.value === undefined) === !this.stdin) throw usageError("tau secrets set: give --value V or --stdin (one of them).", { flags: ["--value", "--stdin"] });
    const value = this.stdin ? await readStdin(this.context.stdin) : this.value!;
    if (value === "") throw usageError("tau secrets set: the value is empty.", { name: this.name });
    return { output: await client.request("PUT", path, undefined, { value }) };
  }
}
