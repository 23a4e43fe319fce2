/**
 * taud's options: command line and TAU_* environment in, validated options with every default filled out.
 * This is the only place that reads TAU_* variables (the daemon itself is handed CompiledDaemonOptions).
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { TauError } from "./contract";

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
}

export type CompiledDaemonOptions = Required<DaemonOptions>;

interface OptionSpec {
  key: keyof DaemonOptions;
  flag: string;
  env: string;
  kind: "string" | "int" | "level";
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
];

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export const DAEMON_USAGE = `Usage: taud [options]

Options (each also read from its environment variable):
${SPECS.map((s) => `  ${`${s.flag} ${s.kind === "string" ? "VALUE" : s.kind === "level" ? "LEVEL" : "N"}`.padEnd(32)} ${s.env}`).join("\n")}
  --help                           print this help

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

  const executors = merged.executors ?? 2;
  const concurrency = merged.concurrency ?? 2 * executors;
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
  };
}

function parseFlags(argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = SPECS.find((s) => s.flag === flag);
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
