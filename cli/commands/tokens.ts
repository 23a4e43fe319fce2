import { Command, Option } from "clipanion";
import { TauCommand, type Outcome } from "./base";
import { actionOf } from "./hosted-input";

export class TokensCommand extends TauCommand {
  static override paths = [["tokens"]];
  static override usage = Command.Usage({
    description: "Issue a bearer token for a tenant of a hosted instance (admin token).",
    details: `
      \`tau tokens issue --role viewer|operator|admin [--tenant T] [--ttl 1h]\` asks the daemon to sign a
      token with its key. An admin issues tokens for its own tenant; a platform admin for any tenant.
      viewer reads; operator deploys, runs and manages secrets; admin also issues tokens. --ttl takes 90s,
      30m, 1h, 7d (default 1h, at most 366 days). Prints {token, tenant, role, expiresAt}: hand the token
      to its user as TAU_TOKEN. Tokens cannot be revoked before they expire: keep ttls short.
    `,
    examples: [
      ["An operator token for a day", "$0 tokens issue --tenant acme --role operator --ttl 1d"],
      ["A viewer token for your own tenant", "$0 tokens issue --role viewer"],
    ],
  });

  action = Option.String({ name: "ACTION" });
  tenant = Option.String("--tenant", { description: "The tenant (default: the caller's)" });
  role = Option.String("--role", { required: true, description: "viewer, operator or admin" });
  ttl = Option.String("--ttl", "1h", { description: "Lifetime: 90s, 30m, 1h, 7d (default 1h)" });
  subject = Option.String("--subject", { description: "Who the token is for (its sub claim)" });

  protected async run(): Promise<Outcome> {
    actionOf("tokens", this.action, ["issue"] as const, "issue");
    const body: Record<string, string> = { role: this.role, ttl: this.ttl };
    if (this.tenant !== undefined) body.tenant = this.tenant;
    if (this.subject !== undefined) body.subject = this.subject;
    return { output: await this.client().request("POST", "/api/tokens", undefined, body) };
  }
}
