/**
 * taud's options: command line and TAU_* environment in, validated options with every default filled out.
 * This is the only place that reads TAU_* variables (the daemon itself is handed CompiledDaemonOptions).
 */
import { homedir } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { compileTokenConfig, isTenantId } from "./auth";
import { TauError } from "./contract";
import { SecretCipher } from "./secrets";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** What a caller may set; everything is optional. */
export interface DaemonOptions {
  /** Folder for the database and tenant data. Default `~/.tau` (TAU_HOME). */
  home?: string;
  /** TCP port; 0 picks a free one. Default 7070 (TAU_PORT). */
  port?: number;
  /** Address to listen on. Default 127.0.0.1 (TAU_BIND). */
  bind?: string;
  /** Executor processes. Default 2 (TAU_EXECUTORS). */
  executors?: number;
  /** Runs executing at once. Default 2 × executors (TAU_CONCURRENCY). */
  concurrency?: number;
  /** Runs of one tenant executing at once. Default: the daemon-wide concurrency (TAU_TENANT_CONCURRENCY). */
  tenantConcurrency?: number;
  /** Runs waiting in the queue before new ones are refused. Default 10,000 (TAU_MAX_QUEUED). */
  maxQueued?: number;
  /** On SIGTERM/SIGINT, how long running runs may go on before they are interrupted. Default 10 s (TAU_SHUTDOWN_GRACE_MS). */
  shutdownGraceMs?: number;
  /** Default "info" (TAU_LOG_LEVEL). */
  logLevel?: LogLevel;
  /** Largest pipeline file accepted by deploy. Default 1 MiB (TAU_MAX_SOURCE_BYTES). */
  maxSourceBytes?: number;
  /** Bytes a WebSocket client may fall behind before it is disconnected. Default 8 MiB (TAU_WS_MAX_BUFFERED_BYTES). */
  wsMaxBufferedBytes?: number;
  /** "local" (one user, no auth on loopback) or "hosted" (JWT bearer tokens, tenants). Default local (TAU_MODE). */
  mode?: "local" | "hosted";
  /** Hosted: the tenant whose admins are platform admins (create tenants, issue any tenant's tokens). Default "admin" (TAU_ADMIN_TENANT). */
  adminTenant?: string;
  /** Hosted: HS256, RS256 or ES256. Default HS256 (TAU_JWT_ALG). */
  jwtAlg?: string;
  /** Hosted, HS256: the shared secret, at least 32 bytes (TAU_JWT_SECRET; environment only). */
  jwtSecret?: string | null;
  /** Hosted, RS256/ES256: the PEM public key, or a path to it (TAU_JWT_PUBLIC_KEY; environment only). */
  jwtPublicKey?: string | null;
  /** Hosted, RS256/ES256: the PEM private key or a path to it; needed only to issue tokens (TAU_JWT_PRIVATE_KEY; environment only). */
  jwtPrivateKey?: string | null;
  /** Hosted: 32 bytes (hex or base64) encrypting stored secrets (TAU_SECRET_KEY; environment only). */
  secretKey?: string | null;
  /**
   * `postgres://…`: keep the daemon's state in that PostgreSQL database instead of `<home>/tau.db`
   * (TAU_DATABASE_URL; environment only, it may hold a password). Default null: SQLite in the home.
   */
  databaseUrl?: string | null;
  /**
   * Where runs execute: "local" (this daemon's executor pool) or "workers" (`taud worker` processes that claim
   * them from a pg-boss queue in TAU_DATABASE_URL; docs/workers.md). Default local (TAU_RUNS_ON).
   */
  runsOn?: "local" | "workers";
  /** `taud worker`: runs at once. Default 2 × executors (TAU_WORKER_CAPACITY). */
  capacity?: number;
  /** `taud worker`: seconds without a heartbeat before the API declares the worker lost. Default 15 (TAU_WORKER_LEASE_SEC). */
  workerLeaseSec?: number;
}

/** Keys that are never given on the command line (it shows in `ps`): environment or programmatic only. */
type KeyOptions = "jwtSecret" | "jwtPublicKey" | "jwtPrivateKey" | "secretKey" | "databaseUrl";

export type CompiledDaemonOptions = Required<Omit<DaemonOptions, KeyOptions>> & { [K in KeyOptions]: string | null };

interface OptionSpec {
  key: keyof DaemonOptions;
  flag: string;
  env: string;
  kind: "string" | "int" | "level" | "mode" | "key" | "runsOn";
  min?: number;
  max?: number;
}

const SPECS: OptionSpec[] = [
  { key: "home", flag: "--home", env: "TAU_HOME", kind: "string" },
  { key: "port", flag: "--port", env: "TAU_PORT", kind: "int", min: 0, max: 65535 },
  { key: "bind", flag: "--bind", env: "TAU_BIND", kind: "string" },
  { key: "executors", flag: "--executors", env: "TAU_EXECUTORS", kind: "int", min: 1, max: 64 },
  { key: "concurrency", flag: "--concurrency", env: "TAU_CONCURRENCY", kind: "int", min: 1, max: 4096 },
  { key: "tenantConcurrency", flag: "--tenant-concurrency", env: "TAU_TENANT_CONCURRENCY", kind: "int", min: 1, max: 4096 },
  { key: "maxQueued", flag: "--max-queued", env: "TAU_MAX_QUEUED", kind: "int", min: 0, max: 10_000_000 },
  { key: "shutdownGraceMs", flag: "--shutdown-grace-ms", env: "TAU_SHUTDOWN_GRACE_MS", kind: "int", min: 0, max: 86_400_000 },
  { key: "logLevel", flag: "--log-level", env: "TAU_LOG_LEVEL", kind: "level" },
  { key: "maxSourceBytes", flag: "--max-source-bytes", env: "TAU_MAX_SOURCE_BYTES", kind: "int", min: 1, max: 64 * 1024 * 1024 },
  { key: "wsMaxBufferedBytes", flag: "--ws-max-buffered-bytes", env: "TAU_WS_MAX_BUFFERED_BYTES", kind: "int", min: 1024, max: 1024 ** 3 },
  { key: "mode", flag: "--mode", env: "TAU_MODE", kind: "mode" },
  { key: "adminTenant", flag: "--admin-tenant", env: "TAU_ADMIN_TENANT", kind: "string" },
  { key: "jwtAlg", flag: "--jwt-alg", env: "TAU_JWT_ALG", kind: "string" },
  { key: "runsOn", flag: "--runs-on", env: "TAU_RUNS_ON", kind: "runsOn" },
  { key: "capacity", flag: "--capacity", env: "TAU_WORKER_CAPACITY", kind: "int", min: 1, max: 4096 },
  { key: "workerLeaseSec", flag: "--lease-sec", env: "TAU_WORKER_LEASE_SEC", kind: "int", min: 3, max: 3600 },
  // Keys: environment only (flag "" = none).
  { key: "jwtSecret", flag: "", env: "TAU_JWT_SECRET", kind: "key" },
  { key: "jwtPublicKey", flag: "", env: "TAU_JWT_PUBLIC_KEY", kind: "key" },
  { key: "jwtPrivateKey", flag: "", env: "TAU_JWT_PRIVATE_KEY", kind: "key" },
  { key: "secretKey", flag: "", env: "TAU_SECRET_KEY", kind: "key" },
  { key: "databaseUrl", flag: "", env: "TAU_DATABASE_URL", kind: "key" },
];

/** Default `concurrency` with --runs-on workers: runs handed to the queue at once. */
const WORKERS_CONCURRENCY = 256;

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export const DAEMON_USAGE = `Usage: taud [options]

Options (each also read from its environment variable):
${SPECS.filter((s) => s.flag !== "")
  .map((s) => `  ${`${s.flag} ${s.kind === "string" ? "VALUE" : s.kind === "level" ? "LEVEL" : s.kind === "mode" ? "local|hosted" : s.kind === "runsOn" ? "local|workers" : "N"}`.padEnd(32)} ${s.env}`)
  .join("\n")}
  --help                           print this help

Hosted mode (--mode hosted) reads its keys from the environment only: TAU_JWT_SECRET (HS256) or
TAU_JWT_PUBLIC_KEY [+ TAU_JWT_PRIVATE_KEY] (RS256/ES256), and TAU_SECRET_KEY. See docs/hosted.md.

  taud token --tenant T --role R [--ttl 1h]   print a token signed with the configured key (bootstrap)
  taud worker [--executors N] [--capacity N] [--lease-sec N] [--home DIR]
                                 claim and execute runs for an API started with --runs-on workers
                                 (needs TAU_DATABASE_URL and TAU_SECRET_KEY; see docs/workers.md)

Prints {"event":"listening","url":…,"pid":…,"home":…} on stdout when ready; logs JSON lines on stderr.
`;

/**
 * Compiles options from the command line and environment. Precedence: `given` (programmatic) over flags
 * over environment over defaults. Throws TAU_E_DAEMON_OPTIONS_INVALID naming the offending option.
 */
export function compileDaemonOptions(
  argv: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = {},
  given: DaemonOptions = {},
): CompiledDaemonOptions {
  const fromEnv: Record<string, unknown> = {};
  for (const spec of SPECS) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== "") fromEnv[spec.key] = parseValue(spec, raw, spec.env);
  }
  const fromFlags = parseFlags(argv);
  const merged = { ...fromEnv, ...fromFlags, ...stripUndefined(given) } as DaemonOptions;
  for (const spec of SPECS) {
    const value = merged[spec.key];
    if (value !== undefined) parseValue(spec, String(value), spec.flag);
  }

  const mode = merged.mode ?? "local";
  const adminTenant = merged.adminTenant ?? "admin";
  if (!isTenantId(adminTenant)) throw invalid("TAU_ADMIN_TENANT", "TAU_ADMIN_TENANT must be a tenant id: lowercase letters, digits, '_' or '-', starting with a letter.");
  const keys = {
    jwtAlg: merged.jwtAlg ?? "HS256",
    jwtSecret: merged.jwtSecret ?? null,
    jwtPublicKey: pemOrFile(merged.jwtPublicKey, "TAU_JWT_PUBLIC_KEY"),
    jwtPrivateKey: pemOrFile(merged.jwtPrivateKey, "TAU_JWT_PRIVATE_KEY"),
    secretKey: merged.secretKey ?? null,
    databaseUrl: databaseUrl(merged.databaseUrl),
  };
  if (mode === "hosted") {
    // Hosted mode always has auth: without a verify key and a secret key it does not start.
    compileTokenConfig({ algorithm: keys.jwtAlg, secret: keys.jwtSecret ?? undefined, publicKey: keys.jwtPublicKey ?? undefined });
    SecretCipher.fromKey(keys.secretKey ?? undefined);
  }

  const runsOn = merged.runsOn ?? "local";
  if (runsOn === "workers") {
    // Workers share the queue through PostgreSQL and open the runs' secrets with the same key.
    if (keys.databaseUrl === null) throw invalid("TAU_RUNS_ON", "--runs-on workers needs TAU_DATABASE_URL (the PostgreSQL the API and its workers share).");
    SecretCipher.fromKey(keys.secretKey ?? undefined);
  }
  const executors = merged.executors ?? 2;
  // With workers, `concurrency` caps the runs handed to the queue at once; the workers' capacities decide
  // how many of them execute.
  const concurrency = merged.concurrency ?? (runsOn === "workers" ? WORKERS_CONCURRENCY : 2 * executors);
  const home = merged.home ?? join(homedir(), ".tau");
  return {
    home: isAbsolute(home) ? home : resolve(home),
    port: merged.port ?? 7070,
    bind: merged.bind ?? "127.0.0.1",
    executors,
    concurrency,
    tenantConcurrency: merged.tenantConcurrency ?? concurrency,
    maxQueued: merged.maxQueued ?? 10_000,
    shutdownGraceMs: merged.shutdownGraceMs ?? 10_000,
    logLevel: merged.logLevel ?? "info",
    maxSourceBytes: merged.maxSourceBytes ?? 1024 * 1024,
    wsMaxBufferedBytes: merged.wsMaxBufferedBytes ?? 8 * 1024 * 1024,
    mode,
    adminTenant,
    runsOn,
    capacity: merged.capacity ?? 2 * executors,
    workerLeaseSec: merged.workerLeaseSec ?? 15,
    ...keys,
  };
}

/** TAU_DATABASE_URL: a postgres:// or postgresql:// URL, or nothing (SQLite in the home). */
function databaseUrl(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === "") return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("TAU_DATABASE_URL", "TAU_DATABASE_URL must be a URL such as postgres://user@host:5432/tau.");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw invalid("TAU_DATABASE_URL", `TAU_DATABASE_URL must be a postgres:// URL, not ${url.protocol}//….`);
  }
  return value;
}

/** A PEM key given inline, or the path of a file holding one. */
function pemOrFile(value: string | null | undefined, option: string): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (value.includes("-----BEGIN")) return value;
  if (!existsSync(value)) throw invalid(option, `${option} must hold a PEM key or the path of a file holding one.`);
  try {
    return readFileSync(value, "utf8");
  } catch (err) {
    throw invalid(option, `${option}: cannot read ${value}: ${(err as Error).message}`);
  }
}

function parseFlags(argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = SPECS.find((s) => s.flag !== "" && s.flag === flag);
    if (!spec) throw invalid(arg, `Unknown option '${arg}'.`);
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw invalid(flag, `Option ${flag} needs a value.`);
    out[spec.key] = parseValue(spec, raw, flag);
  }
  return out;
}

function parseValue(spec: OptionSpec, raw: string, option: string): string | number {
  if (spec.kind === "string") {
    if (raw.trim() === "") throw invalid(option, `${option} must not be empty.`);
    return raw;
  }
  if (spec.kind === "key") return raw;
  if (spec.kind === "runsOn") {
    if (raw !== "local" && raw !== "workers") throw invalid(option, `${option} must be local or workers.`);
    return raw;
  }
  if (spec.kind === "mode") {
    if (raw !== "local" && raw !== "hosted") throw invalid(option, `${option} must be local or hosted.`);
    return raw;
  }
  if (spec.kind === "level") {
    if (!(LEVELS as readonly string[]).includes(raw)) throw invalid(option, `${option} must be one of ${LEVELS.join(", ")}.`);
    return raw;
  }
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < (spec.min ?? 0) || n > (spec.max ?? Number.MAX_SAFE_INTEGER)) {
    throw invalid(option, `${option} must be an integer from ${spec.min} to ${spec.max}, not '${raw}'.`);
  }
  return n;
}

function stripUndefined(options: DaemonOptions): DaemonOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DaemonOptions;
}

function invalid(option: string, message: string): TauError {
  return new TauError("TAU_E_DAEMON_OPTIONS_INVALID", message, { option });
}
