/**
 * `taud worker [--home DIR] [--executors N] [--capacity N] [--lease-sec N] [--log-level L]` (docs/workers.md).
 *
 * stdout carries one JSON line, `{"event":"ready","worker":ID,"pid":…,"capacity":…}` once registered, or
 * `{"error":{…}}` when the worker cannot start (exit 2 for bad options, 1 otherwise). Logs are JSON lines
 * on stderr. SIGTERM/SIGINT drain (no new runs; the runs in flight finish and report); a second signal
 * reports the runs in flight as TAU_E_WORKER_LOST (the API retries them) and exits.
 */
import { TauError } from "../contract";
import { ExecutorPool } from "../../sandbox";
import type { Logger } from "../log";
import { compileDaemonOptions, type CompiledDaemonOptions, type LogLevel } from "../options";
import { SecretCipher } from "../secrets";
import { Worker } from "./worker";

export const WORKER_USAGE = `Usage: taud worker [options]

Claims runs queued by a taud started with --runs-on workers, from the pg-boss queue in the same PostgreSQL,
and executes them on its own executor processes.

Options (each also read from its environment variable):
  --home DIR              TAU_HOME              tenants' data folders live under DIR/data
  --executors N           TAU_EXECUTORS         executor processes (default 2)
  --capacity N            TAU_WORKER_CAPACITY   runs at once (default 2 × executors)
  --lease-sec N           TAU_WORKER_LEASE_SEC  without a heartbeat for N s the worker is lost (default 15)
  --log-level LEVEL       TAU_LOG_LEVEL
Environment only: TAU_DATABASE_URL (required), TAU_SECRET_KEY (required: the API's key).

Prints {"event":"ready","worker":ID,"pid":…,"capacity":…} on stdout once registered; logs JSON lines on stderr.
`;

const LEVEL_RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };

/** JSON lines on stderr, the shape taud's pino logs have. */
function stderrLogger(level: LogLevel): Logger {
  const write = (lvl: LogLevel, fields: Record<string, unknown>, msg: string): void => {
    if (LEVEL_RANK[lvl] < LEVEL_RANK[level]) return;
    const { err, ...rest } = fields;
    const line: Record<string, unknown> = { level: LEVEL_RANK[lvl], time: Date.now(), pid: process.pid, ...rest, msg };
    if (err !== undefined) line.err = err instanceof Error ? { message: err.message, stack: err.stack } : String(err);
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    info: (fields, msg) => write("info", fields, msg),
    warn: (fields, msg) => write("warn", fields, msg),
    error: (fields, msg) => write("error", fields, msg),
  };
}

export function compileWorkerOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CompiledDaemonOptions & { databaseUrl: string } {
  // The API's mode (its auth) does not concern a worker: it never serves HTTP.
  const o = compileDaemonOptions(argv, { ...env, TAU_MODE: undefined });
  if (o.databaseUrl === null) {
    throw new TauError("TAU_E_DAEMON_OPTIONS_INVALID", "taud worker needs TAU_DATABASE_URL: the PostgreSQL its API queues runs in.", { option: "TAU_DATABASE_URL" });
  }
  SecretCipher.fromKey(o.secretKey ?? undefined);
  return { ...o, databaseUrl: o.databaseUrl };
}

/** Runs a worker until it is signalled; `envForExecutors` is the environment pipelines' executors get. */
export async function workerCommand(argv: string[], env: NodeJS.ProcessEnv, envForExecutors: NodeJS.ProcessEnv): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(WORKER_USAGE);
    return;
  }
  let worker: Worker;
  let log: Logger;
  try {
    const o = compileWorkerOptions(argv, env);
    log = stderrLogger(o.logLevel);
    const logger = log;
    worker = new Worker({
      databaseUrl: o.databaseUrl,
      home: o.home,
      executors: o.executors,
      capacity: o.capacity,
      leaseSec: o.workerLeaseSec,
      cipher: SecretCipher.fromKey(o.secretKey ?? undefined),
      pool: new ExecutorPool({ size: o.executors, env: envForExecutors, onStderr: (executor, line) => logger.warn({ executor, line }, "executor stderr") }),
      log,
    });
    await worker.start();
    process.stdout.write(`${JSON.stringify({ event: "ready", worker: worker.id, pid: process.pid, capacity: o.capacity })}\n`);
  } catch (err) {
    const tau = err instanceof TauError ? err : new TauError("TAU_E_INTERNAL", undefined, { cause: (err as Error)?.message ?? String(err) });
    process.stdout.write(`${JSON.stringify({ error: tau.toBody() })}\n`);
    process.exitCode = tau.code === "TAU_E_DAEMON_OPTIONS_INVALID" ? 2 : 1;
    return;
  }
  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    signals++;
    const done = (): void => {
      log.info({ signal }, "worker stopped");
      process.exitCode = 0;
      setTimeout(() => process.exit(0), 2_000).unref();
    };
    if (signals === 1) {
      log.info({ signal, running: worker.running }, "worker draining: no new runs; waiting for the runs in flight");
      worker.drain().then(done, (err: unknown) => {
        log.error({ err }, "drain failed");
        process.exit(1);
      });
    } else if (signals === 2) {
      log.warn({ signal, running: worker.running }, "second signal: reporting the runs in flight as lost and stopping");
      worker.abort().then(done, () => process.exit(1));
    } else {
      process.exit(1);
    }
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
