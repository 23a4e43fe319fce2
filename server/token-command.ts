/**
 * `taud token --tenant T --role R [--ttl 1h] [--subject S]`: the bootstrap. Signs a token with the key
 * configuration taud itself would use (TAU_JWT_* from the environment) and prints it as one JSON line;
 * it does not touch the daemon or its database. An operator with shell access to the daemon's environment
 * mints the first platform admin token this way (`--tenant admin --role admin`), then uses `tau tokens issue`.
 */
import { issueToken, isRole, isTenantId } from "./auth";
import { TauError } from "./contract";
import { tokenConfigOf } from "./daemon";
import { compileDaemonOptions } from "./options";
import { iso } from "./store";
import { parseTtl } from "./services/tenants";

export const TOKEN_USAGE = `Usage: taud token --tenant T --role viewer|operator|admin [--ttl 1h] [--subject S]

Prints {"token":…,"tenant":…,"role":…,"expiresAt":…} signed with the key in TAU_JWT_SECRET
(HS256) or TAU_JWT_PRIVATE_KEY (RS256/ES256, with TAU_JWT_ALG). See docs/hosted.md.
`;

export function tokenCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = ["--tenant", "--role", "--ttl", "--subject"].find((f) => arg === f || arg.startsWith(`${f}=`));
    if (!name) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
    if (value === undefined || value === "") throw usage(`${name} needs a value.`);
    flags[name.slice(2)] = value;
  }
  // Any other taud option (--jwt-alg, --mode …) is compiled as taud would; the mode is hosted by definition.
  const options = compileDaemonOptions(rest, env, { mode: "hosted" });
  const config = tokenConfigOf(options)!;
  const tenant = flags.tenant;
  if (!isTenantId(tenant)) throw usage("--tenant must be a tenant id (lowercase letters, digits, '_' or '-').");
  if (!isRole(flags.role)) throw usage("--role must be viewer, operator or admin.");
  const ttlSec = parseTtl(flags.ttl ?? "1h");
  if (ttlSec === null) throw usage("--ttl is a number with an optional unit: 90s, 30m, 1h, 7d.");
  const { token, expiresAt } = issueToken(config, { tenant, role: flags.role, ttlSec, subject: flags.subject ?? "taud token" });
  return { token, tenant, role: flags.role, expiresAt: iso(expiresAt) };
}

function usage(message: string): TauError {
  return new TauError("TAU_E_DAEMON_OPTIONS_INVALID", message, { command: "token" }, TOKEN_USAGE.split("\n")[0]);
}
