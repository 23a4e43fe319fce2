/**
 * `taud [--home DIR] [--port N] [--bind ADDR] [--executors N] …` — see DAEMON_USAGE.
 *
 * stdout carries exactly one JSON line: `{"event":"listening","url":…,"pid":…,"home":…}` once ready, or
 * `{"error":{…}}` when the daemon cannot start (exit code 2 for bad options, 1 otherwise). Logs are JSON
 * lines on stderr. SIGTERM/SIGINT shut down gracefully; a second signal exits at once.
 */
import { TauError } from "./contract";
import { compileDaemonOptions, createDaemon, DAEMON_USAGE, type Daemon } from "./index";
import { TOKEN_USAGE, tokenCommand } from "./token-command";
import { withoutDaemonKeys } from "./daemon";
import { workerCommand } from "./workers/command";

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "token") return token(argv.slice(1));
  if (argv[0] === "worker") return workerCommand(argv.slice(1), process.env, withoutDaemonKeys(process.env));
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(DAEMON_USAGE);
    return;
  }
  let daemon: Daemon;
  try {
    daemon = await createDaemon(compileDaemonOptions(argv, process.env));
  } catch (err) {
    const tau = err instanceof TauError ? err : new TauError("TAU_E_INTERNAL", undefined, { cause: (err as Error)?.message ?? String(err) });
    process.stdout.write(`${JSON.stringify({ error: tau.toBody() })}\n`);
    if (!(err instanceof TauError)) process.stderr.write(`${JSON.stringify({ level: "fatal", msg: "taud failed to start", err: String((err as Error)?.stack ?? err) })}\n`);
    process.exitCode = tau.code === "TAU_E_DAEMON_OPTIONS_INVALID" ? 2 : 1;
    return;
  }

  const { options } = daemon;
  process.stdout.write(`${JSON.stringify({ event: "listening", url: daemon.url, pid: process.pid, home: options.home })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      daemon.app.log.warn({ signal }, "second signal: exiting without waiting");
      process.exit(1);
    }
    stopping = true;
    daemon.app.log.info({ signal, graceMs: options.shutdownGraceMs }, "shutting down");
    daemon.close().then(
      () => {
        daemon.app.log.info({}, "stopped");
        process.exitCode = 0;
        // Everything is closed; should a stray handle keep the loop alive, do not hang the caller.
        setTimeout(() => process.exit(0), 2_000).unref();
      },
      (err: unknown) => {
        daemon.app.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Stopped on its own (docs/hosted.md: the database lock lost to another daemon): exit non-zero.
  void daemon.stoppedItself.then(async () => {
    stopping = true;
    await daemon.close().catch(() => undefined);
    process.exit(1);
  });
}

/** `taud token …` (token-command.ts): one JSON line on stdout, exit 2 on bad options. */
function token(argv: string[]): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(TOKEN_USAGE);
    return;
  }
  try {
    process.stdout.write(`${JSON.stringify(tokenCommand(argv, process.env))}\n`);
  } catch (err) {
    const tau = err instanceof TauError ? err : new TauError("TAU_E_INTERNAL", undefined, { cause: (err as Error)?.message ?? String(err) });
    process.stdout.write(`${JSON.stringify({ error: tau.toBody() })}\n`);
    process.exitCode = tau.code === "TAU_E_DAEMON_OPTIONS_INVALID" || tau.code === "TAU_E_REQUEST_INVALID" ? 2 : 1;
  }
}

void main(process.argv.slice(2));
