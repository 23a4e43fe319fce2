/**
 * Connections for mysql: options (a dsn or the parts; hostile JSON, possibly holding secret values — never
 * echoed in errors), name resolution, and one connection to the address the egress policy checked, with the
 * session set up: strict sql_mode (bad values are errors, not silent truncations; also without
 * NO_BACKSLASH_ESCAPES / ANSI_QUOTES, which the driver's SQL relies on), time_zone +00:00, utf8mb4.
 */
import { lookup } from "node:dns/promises";
import { isIP, connect as netConnect } from "node:net";
import type { Connection, FieldPacket } from "mysql2/promise";
import { createConnection } from "mysql2/promise";
import { TauError } from "../../server/contract";
import { convertMysqlError } from "./mysql-errors";

const DEFAULT_PORT = 3306;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The session's sql_mode: strict, and without NO_BACKSLASH_ESCAPES / ANSI_QUOTES, which the driver's SQL relies on. */
export const MYSQL_SESSION_SQL_MODE = "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

/** Options of `connector.open` for mysql (after secret substitution). */
export interface MysqlOptions {
  /** `mysql://user:password@host:port/database?ssl=true` (or `mariadb://…`); alternative to the fields. */
  dsn?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** TLS: `true` (verify the server's certificate), or `{ rejectUnauthorized?, ca? }`. Default off. */
  ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
  /** Connect timeout (default 10000 ms, max 120000). */
  connectTimeoutMs?: number;
}

/** Connection settings after validation: what every connection of a handle (main, cursors, kills) uses. */
export interface MysqlTarget {
  host: string;
  /** The address checked against the egress policy: connections go here. */
  address: string;
  port: number;
  user: string;
  password: string;
  database: string | undefined;
  ssl: { rejectUnauthorized: boolean; ca?: string } | undefined;
  connectTimeoutMs: number;
}

/** Validates the guest's options; never echoes a DSN or password in an error (they may be secrets). */
export function parseMysqlOptions(options: Record<string, unknown>): Omit<MysqlTarget, "address"> {
  const known = new Set(["dsn", "host", "port", "database", "user", "password", "ssl", "connectTimeoutMs"]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw argsInvalid(`mysql has no option '${key}' (options: ${[...known].join(", ")}).`, { option: key });
  }
  const str = (key: string): string | undefined => {
    const v = options[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw argsInvalid(`mysql's ${key} must be a string.`, { option: key });
    return v;
  };
  let host = str("host");
  let user = str("user");
  let password = str("password");
  let database = str("database");
  let port: number | undefined;
  let ssl: MysqlTarget["ssl"];
  const dsn = str("dsn");
  if (dsn !== undefined) {
    if (host !== undefined) throw argsInvalid("mysql takes either dsn or host/port/…, not both.", { option: "dsn" });
    let url: URL;
    try {
      url = new URL(dsn);
    } catch {
      throw argsInvalid("mysql's dsn is not a valid URL (expected mysql://user:password@host:port/database).", { option: "dsn" });
    }
    if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") {
      throw argsInvalid("mysql's dsn must start with mysql:// (or mariadb://).", { option: "dsn" });
    }
    host = url.hostname.replace(/^\[|\]$/g, "");
    if (url.port) port = Number(url.port);
    if (url.username) user = decodeURIComponent(url.username);
    if (url.password) password = decodeURIComponent(url.password);
    const path = decodeURIComponent(url.pathname.replace(/^\//, ""));
    if (path) database = path;
    const sslParam = url.searchParams.get("ssl") ?? url.searchParams.get("sslmode");
    if (sslParam !== null && !["false", "0", "disable", "disabled"].includes(sslParam.toLowerCase())) {
      ssl = { rejectUnauthorized: !["no-verify", "required", "require", "preferred", "prefer"].includes(sslParam.toLowerCase()) };
    }
  }
  if (options.port !== undefined && options.port !== null) {
    const p = options.port;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 1 || p > 65535) throw argsInvalid("mysql's port must be an integer from 1 to 65535.", { option: "port" });
    port = p;
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw argsInvalid("The dsn's port must be from 1 to 65535.", { option: "dsn" });
  if (!host) throw argsInvalid("mysql needs a host (or a dsn like mysql://user:password@host:3306/database).", { option: "host" });
  if (options.ssl !== undefined && options.ssl !== null) {
    const s = options.ssl;
    if (s === true) ssl = { rejectUnauthorized: true };
    else if (s === false) ssl = undefined;
    else if (typeof s === "object" && !Array.isArray(s)) {
      const o = s as Record<string, unknown>;
      if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== "boolean") throw argsInvalid("ssl.rejectUnauthorized must be a boolean.", { option: "ssl" });
      if (o.ca !== undefined && typeof o.ca !== "string") throw argsInvalid("ssl.ca must be a PEM string.", { option: "ssl" });
      ssl = { rejectUnauthorized: o.rejectUnauthorized !== false, ...(typeof o.ca === "string" ? { ca: o.ca } : {}) };
    } else throw argsInvalid("mysql's ssl must be true, false or { rejectUnauthorized?, ca? }.", { option: "ssl" });
  }
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  const t = options.connectTimeoutMs;
  if (t !== undefined && t !== null) {
    if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) throw argsInvalid("mysql's connectTimeoutMs must be a positive number.", { option: "connectTimeoutMs" });
    connectTimeoutMs = Math.min(t, 120_000);
  }
  return { host, port: port ?? DEFAULT_PORT, user: user ?? "root", password: password ?? "", database, ssl, connectTimeoutMs };
}

export async function resolveHost(host: string, port: number): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    const found = await lookup(host, { all: true });
    if (found.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" });
    return found.map((a) => a.address);
  } catch (err) {
    throw convertMysqlError(err, { host, port });
  }
}

/** Opens one connection to the checked address and sets up the session. */
export async function connectMysql(target: MysqlTarget): Promise<Connection> {
  let connection: Connection | undefined;
  try {
    connection = await createConnection({
      // The name stays for TLS (SNI, identity); the socket goes to the address the policy checked.
      host: target.host,
      port: target.port,
      stream: () => netConnect(target.port, target.address),
      user: target.user,
      password: target.password,
      database: target.database,
      ssl: target.ssl,
      connectTimeout: target.connectTimeoutMs,
      charset: "UTF8MB4_UNICODE_CI",
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
      dateStrings: true,
      multipleStatements: false,
    });
    connection.on("error", () => undefined); // a dropped idle connection is noticed at its next use
    await connection.query(`SET SESSION sql_mode = '${MYSQL_SESSION_SQL_MODE}', time_zone = '+00:00'`);
    return connection;
  } catch (err) {
    if (connection) connection.destroy();
    throw convertMysqlError(err, { host: target.host, port: target.port });
  }
}

/** The core (callback) connection under a promise connection: what streaming and pause/resume need. */
export interface CoreConnection {
  threadId: number | null;
  /** mysql2's view of the connection: "error" or "disconnected" once the server or network dropped it. */
  readonly state: string;
  query(options: { sql: string; infileStreamFactory?: () => NodeJS.ReadableStream }): CoreQuery;
  pause(): void;
  resume(): void;
  destroy(): void;
}
export interface CoreQuery {
  on(event: "fields", fn: (fields: FieldPacket[]) => void): CoreQuery;
  on(event: "result", fn: (row: Record<string, unknown>) => void): CoreQuery;
  on(event: "error", fn: (err: unknown) => void): CoreQuery;
  on(event: "end", fn: () => void): CoreQuery;
}

export function coreOf(connection: Connection): CoreConnection {
  return (connection as unknown as { connection: CoreConnection }).connection;
}

/** `KILL QUERY|CONNECTION id` from a short-lived side connection; false when it could not be done. */
export async function killThread(target: MysqlTarget, threadId: number | null, what: "QUERY" | "CONNECTION"): Promise<boolean> {
  if (threadId === null) return false;
  try {
    const side = await connectMysql({ ...target, connectTimeoutMs: Math.min(target.connectTimeoutMs, 3000) });
    try {
      await side.query(`KILL ${what} ${Number(threadId)}`);
      return true;
    } finally {
      side.destroy();
    }
  } catch {
    return false;
  }
}

function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}
