/**
 * Connecting to PostgreSQL or Redshift (same wire protocol, pg 8.20): option validation (the guest's options
 * are hostile JSON, with secret markers already replaced by the bridge), DNS resolution and the tenant's
 * egress check BEFORE any socket is opened, then a pg `Client` connected to the checked address — never to
 * the name again, so a rebinding DNS answer cannot slip past the check. TLS keeps the original host name as
 * its servername, so certificates are verified against the name the pipeline wrote.
 */
import { lookup } from "node:dns/promises";
import { createConnection, isIP } from "node:net";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { Client, type ClientConfig } from "pg";
import { parse as parseDsn } from "pg-connection-string";
import { checkEgress, type Policy } from "../../policies";
import { TauError } from "../../server/contract";
import { convertPgError } from "./postgres-errors";
import { tauPgTypes } from "./postgres-values";

/** Options a pipeline passes to `postgres({...})` / `redshift({...})`, after secret substitution. */
export interface PgConnectorOptions {
  /** `postgres://user:password@host:port/database?sslmode=require` (key=value DSNs are not accepted). */
  dsn?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** true: TLS with certificate verification; "require": TLS without verification; false: plain. */
  ssl?: boolean | "require" | "verify-full" | { rejectUnauthorized?: boolean; ca?: string };
  /** Connect timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** The server's statement_timeout for this handle (default: the server's setting). */
  statementTimeoutMs?: number;
}

/** Where and how to connect, after validation. */
export interface PgTarget {
  kind: string;
  host: string;
  port: number;
  database: string | undefined;
  user: string | undefined;
  password: string | undefined;
  ssl: false | TlsOptions;
  connectTimeoutMs: number;
  statementTimeoutMs: number | null;
}

/** A target whose host name was resolved and checked against the policy: connect only to these addresses. */
export interface CheckedPgTarget extends PgTarget {
  addresses: string[];
}

const KNOWN_OPTIONS = ["dsn", "host", "port", "database", "user", "password", "ssl", "connectTimeoutMs", "statementTimeoutMs"];
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function argsInvalid(message: string, details: Record<string, unknown> = {}, hint?: string): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details, hint);
}

function str(kind: string, o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw argsInvalid(`${kind}'s option '${key}' must be a string.`, { option: key });
  return v;
}

function int(kind: string, o: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw argsInvalid(`${kind}'s option '${key}' must be an integer from ${min} to ${max}.`, { option: key });
  }
  return n;
}

function sslFrom(kind: string, value: unknown, host: string): false | TlsOptions {
  if (value === undefined || value === null || value === false || value === "disable") return false;
  // The connection goes to an IP address: keep the name for SNI and certificate verification.
  const servername = isIP(host) === 0 ? host : undefined;
  if (value === true || value === "verify-full" || value === "verify-ca") return { servername, rejectUnauthorized: true };
  if (value === "require" || value === "prefer" || value === "no-verify") return { servername, rejectUnauthorized: false };
  if (typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== "rejectUnauthorized" && k !== "ca") throw argsInvalid(`${kind}'s ssl option has no field '${k}' (fields: rejectUnauthorized, ca).`, { option: "ssl" });
    }
    if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== "boolean") throw argsInvalid(`${kind}'s ssl.rejectUnauthorized must be a boolean.`, { option: "ssl" });
    if (o.ca !== undefined && typeof o.ca !== "string") throw argsInvalid(`${kind}'s ssl.ca must be a PEM string.`, { option: "ssl" });
    return { servername, rejectUnauthorized: o.rejectUnauthorized !== false, ...(o.ca ? { ca: o.ca as string } : {}) };
  }
  throw argsInvalid(`${kind}'s ssl option must be true, false, "require", "verify-full" or { rejectUnauthorized, ca }.`, { option: "ssl" });
}

/** Validates `postgres({...})` / `redshift({...})` options. Never echoes a DSN or password in a message. */
export function parsePgOptions(kind: string, options: Record<string, unknown>, defaultPort: number): PgTarget {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) throw argsInvalid(`${kind} has no option '${key}' (options: ${KNOWN_OPTIONS.join(", ")}).`, { option: key });
  }
  const dsn = str(kind, options, "dsn");
  const connectTimeoutMs = int(kind, options, "connectTimeoutMs", 1, 600_000) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const statementTimeoutMs = int(kind, options, "statementTimeoutMs", 0, 86_400_000) ?? null;
  let host: string | undefined;
  let port: number | undefined;
  let database: string | undefined;
  let user: string | undefined;
  let password: string | undefined;
  let sslValue: unknown = options.ssl;
  if (dsn !== undefined) {
    for (const key of ["host", "port", "database", "user", "password"]) {
      if (options[key] !== undefined && options[key] !== null) {
        throw argsInvalid(`${kind}: pass either dsn or host/port/database/user/password, not both (got dsn and '${key}').`, { option: key });
      }
    }
    if (!/^postgres(?:ql)?:\/\//i.test(dsn) && !/^redshift:\/\//i.test(dsn)) {
      throw argsInvalid(`${kind}'s dsn must be a URL like postgres://user:password@host:5432/database.`, { option: "dsn" });
    }
    let parsed: ReturnType<typeof parseDsn>;
    try {
      parsed = parseDsn(dsn.replace(/^redshift:/i, "postgres:"));
    } catch {
      throw argsInvalid(`${kind}'s dsn is not a valid connection URL.`, { option: "dsn" });
    }
    host = parsed.host ?? undefined;
    port = parsed.port ? Number(parsed.port) : undefined;
    database = parsed.database ?? undefined;
    user = parsed.user;
    password = parsed.password;
    const sslmode = /[?&]sslmode=([^&]*)/i.exec(dsn)?.[1];
    if (sslValue === undefined) sslValue = sslmode ?? (/[?&]ssl=(true|1)(&|$)/i.test(dsn) ? true : undefined);
  } else {
    host = str(kind, options, "host");
    port = int(kind, options, "port", 1, 65535);
    database = str(kind, options, "database");
    user = str(kind, options, "user");
    password = str(kind, options, "password");
  }
  if (!host) {
    throw argsInvalid(`${kind} needs a host: pass { dsn } or { host, port, database, user, password }.`, { option: dsn ? "dsn" : "host" });
  }
  if (host.startsWith("/")) {
    throw argsInvalid(`${kind} connects over TCP only; a Unix socket path is not allowed as the host.`, { option: "host" });
  }
  port ??= defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw argsInvalid(`${kind}'s port must be 1–65535.`, { option: "port" });
  return { kind, host, port, database, user, password, ssl: sslFrom(kind, sslValue, host), connectTimeoutMs, statementTimeoutMs };
}

/**
 * Resolves the host name and checks the egress policy (host, port and every resolved address). Throws
 * TAU_E_POLICY_DENIED before any connection is attempted, TAU_E_CONNECTOR_UNREACHABLE when the name does not
 * resolve.
 */
export async function checkPgTarget(target: PgTarget, policy: Policy): Promise<CheckedPgTarget> {
  const bare = target.host.replace(/^\[|\]$/g, "");
  const deny = (d: { rule: string; message: string }): TauError =>
    new TauError("TAU_E_POLICY_DENIED", d.message, { rule: d.rule, host: bare, port: target.port });
  let addresses: string[];
  if (isIP(bare) !== 0) addresses = [bare];
  else {
    // A name no host rule allows, under a policy without CIDR rules, is refused before it is even resolved.
    const byName = checkEgress(policy, { host: bare, port: target.port, addresses: [] });
    if (byName && !policy.egress.some((r) => r.cidr !== undefined)) throw deny(byName);
    try {
      addresses = (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
    } catch (err) {
      const denial = checkEgress(policy, { host: bare, port: target.port, addresses: [] });
      if (denial) throw deny(denial);
      throw convertPgError(err, { host: bare, port: target.port });
    }
  }
  const denial = checkEgress(policy, { host: bare, port: target.port, addresses });
  if (denial) throw deny(denial);
  return { ...target, host: bare, addresses };
}

/** Connects a new pg Client to the first checked address that answers, with Tau's type parsers and UTC. */
export async function connectPg(target: CheckedPgTarget): Promise<Client> {
  let lastError: unknown = null;
  for (const address of target.addresses) {
    const config: ClientConfig = {
      host: address,
      port: target.port,
      database: target.database,
      user: target.user,
      password: target.password,
      ssl: target.ssl === false ? false : target.ssl,
      types: tauPgTypes,
      connectionTimeoutMillis: target.connectTimeoutMs,
      application_name: "tau",
      ...(target.statementTimeoutMs !== null ? { statement_timeout: target.statementTimeoutMs } : {}),
    };
    const client = new Client(config);
    // An idle client whose server goes away emits 'error'; without a listener that would crash the executor.
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SET TIME ZONE 'UTC'");
      return client;
    } catch (err) {
      lastError = err;
      client.end().catch(() => undefined);
      const code = (err as { code?: unknown }).code;
      // Only a refused/unreachable address is worth trying the next one; auth errors are final.
      if (code !== "ECONNREFUSED" && code !== "EHOSTUNREACH" && code !== "ENETUNREACH" && code !== "ETIMEDOUT") break;
    }
  }
  throw convertPgError(lastError, { host: target.host, port: target.port });
}

/**
 * Asks the server to cancel the statement `client` is running: a CancelRequest (protocol message 80877102
 * with the backend's pid and secret key) on a new plain TCP connection to the same checked address. Best
 * effort; never rejects.
 */
export async function cancelPgQuery(client: Client, target: CheckedPgTarget): Promise<void> {
  const internal = client as unknown as { processID?: number | null; secretKey?: number | null; _activeQuery?: unknown };
  if (!internal._activeQuery || typeof internal.processID !== "number" || typeof internal.secretKey !== "number") return;
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80877102, 4);
  message.writeInt32BE(internal.processID, 8);
  message.writeInt32BE(internal.secretKey, 12);
  await new Promise<void>((resolve) => {
    const socket = createConnection({ host: target.addresses[0], port: target.port });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 2000);
    socket.on("connect", () => socket.end(message));
    socket.on("close", done);
    socket.on("error", done);
  });
}
