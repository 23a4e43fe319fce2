/**
 * `motherduck`: DuckDB's cloud service, through the same engine as duckdb_local (the `motherduck` extension).
 * The host opens `md:<database>?motherduck_token=<token>` — the token comes from a secret (`ctx.secret`), so
 * the guest only ever holds its marker.
 *
 * Policy: a network connector. The egress policy is checked for `api.motherduck.com:443` (after resolving the
 * name) before DuckDB is asked to connect; the extension makes its own connections, so the check is by host
 * name and port. Without `policy.duckdbAnyPath` the database is opened in MotherDuck's `saas_mode`, which
 * turns off the local engine's file system access (read_csv, COPY, ATTACH of local files) and extension
 * installs, as `enable_external_access=false` does for duckdb_local.
 *
 * Errors: DuckDB's messages go through `convertDuckDbError`, except the two MotherDuck adds: the extension
 * cannot be downloaded (offline) → TAU_E_CONNECTOR_UNAVAILABLE with a hint, and a refused token →
 * TAU_E_CONNECTOR_AUTH_FAILED. The token is redacted from every message here (the bridge also scrubs secrets).
 */
import { lookup } from "node:dns/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { checkEgress } from "../../policies";
import { TauError } from "../../server/contract";
import { convertDuckDbError } from "./duckdb-errors";
import type { DuckDbInstanceCache, DuckDbLease } from "./duckdb-instances";
import { DuckDbLocalConnector } from "./duckdb-local";
import { argsInvalid } from "./duckdb-sql";
import type { ConnectorContext, ConnectorDriver, HostConnector } from "./types";

export const MOTHERDUCK_KIND = "motherduck";
export const MOTHERDUCK_HOST = "api.motherduck.com";
export const MOTHERDUCK_PORT = 443;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Options the guest may pass to `connector.open` for motherduck (after secret substitution). */
export interface MotherDuckOptions {
  /** The MotherDuck database, e.g. "my_db". */
  database: string;
  /** The MotherDuck access token (pass `ctx.secret("MOTHERDUCK_TOKEN")`). */
  token: string;
}

/** Resolves a host name to its addresses (injectable so tests need no DNS). */
export type HostResolver = (host: string) => Promise<string[]>;

const DATABASE_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
// JWT-like tokens; anything that could end the option (`&`, `?`, whitespace, quotes) is refused.
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]{1,8192}$/;

/** Validates motherduck's options (hostile JSON) and builds the `md:` path DuckDB opens. */
export function motherDuckPath(options: Record<string, unknown>, saasMode: boolean): string {
  for (const key of Object.keys(options)) {
    if (key !== "database" && key !== "token") throw argsInvalid(`motherduck has no option '${key}' (options: database, token).`, { option: key });
  }
  const { database, token } = options;
  if (typeof database !== "string" || !DATABASE_RE.test(database)) {
    throw argsInvalid('motherduck needs { database: "my_db" }: a database name of letters, digits, "_" and "-".', { option: "database" });
  }
  if (typeof token !== "string" || token === "") {
    throw new TauError(
      "TAU_E_CONNECTOR_ARGS_INVALID",
      "motherduck needs { token }: a MotherDuck access token.",
      { option: "token" },
      'Store the token as a secret and pass it as motherduck({ database: "my_db", token: ctx.secret("MOTHERDUCK_TOKEN") }).',
    );
  }
  if (!TOKEN_RE.test(token)) throw argsInvalid("motherduck's token has characters a MotherDuck token never has.", { option: "token" });
  return `md:${database}?motherduck_token=${token}${saasMode ? "&saas_mode=true" : ""}`;
}

async function dnsResolve(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    // Unresolvable (offline): host-name rules still apply; CIDR rules cannot match an empty address list.
    return [];
  }
}

export class MotherDuckDriver implements ConnectorDriver {
  readonly kind = MOTHERDUCK_KIND;

  constructor(
    private readonly instances: DuckDbInstanceCache,
    private readonly resolveHost: HostResolver = dnsResolve,
  ) {}

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const path = motherDuckPath(options, !ctx.policy.duckdbAnyPath);
    const addresses = await this.resolveHost(MOTHERDUCK_HOST);
    const denial = checkEgress(ctx.policy, { host: MOTHERDUCK_HOST, port: MOTHERDUCK_PORT, addresses });
    if (denial) {
      throw new TauError("TAU_E_POLICY_DENIED", denial.message, { rule: denial.rule, kind: MOTHERDUCK_KIND, host: MOTHERDUCK_HOST, port: MOTHERDUCK_PORT });
    }
    let lease: DuckDbLease;
    try {
      lease = await this.instances.acquire(path, DEFAULT_BUSY_TIMEOUT_MS);
    } catch (err) {
      throw convertMotherDuckError(err, String(options.token));
    }
    let connection: DuckDBConnection;
    try {
      connection = await lease.connect();
    } catch (err) {
      lease.release();
      throw convertMotherDuckError(err, String(options.token));
    }
    return new DuckDbLocalConnector(lease, connection, ctx, MOTHERDUCK_KIND);
  }
}

/** DuckDB's failure to open an `md:` database → a Tau code, with the token redacted. */
export function convertMotherDuckError(err: unknown, token = ""): TauError {
  const redact = (text: string): string => {
    let out = text.replace(/motherduck_token=[^&\s"']*/g, "motherduck_token=[redacted]");
    if (token.length >= 4) out = out.split(token).join("[redacted]");
    return out;
  };
  const base = err instanceof TauError ? err : convertDuckDbError(err);
  const message = redact(base.message);
  const details = JSON.parse(redact(JSON.stringify(base.details))) as Record<string, unknown>;
  if (/extension "?motherduck"?/i.test(message) && /download|install|load|not found|connection/i.test(message)) {
    return new TauError(
      "TAU_E_CONNECTOR_UNAVAILABLE",
      `DuckDB could not load its motherduck extension: ${message.split("\n")[0]}`,
      { ...details, kind: MOTHERDUCK_KIND, extension: "motherduck" },
      "DuckDB downloads the motherduck extension from extensions.duckdb.org on first use: let the executor's machine reach it " +
        "(and api.motherduck.com:443), or install the extension beforehand for the user taud runs as (duckdb -c 'INSTALL motherduck').",
    );
  }
  if (/token|unauthenticated|unauthori[sz]ed|authenticat/i.test(message)) {
    return new TauError("TAU_E_CONNECTOR_AUTH_FAILED", message, { ...details, kind: MOTHERDUCK_KIND }, "Check the MotherDuck token in the secret passed as `token` (it may be expired or revoked).");
  }
  return new TauError(base.code, message, { ...details, kind: MOTHERDUCK_KIND }, base.hint);
}
