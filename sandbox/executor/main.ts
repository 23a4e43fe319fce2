/**
 * The executor process (bundled to dist/sandbox/executor.js, forked by the pool with --no-node-snapshot and
 * an IPC channel). Pipeline code runs here, in isolates; a crash here fails only this process's runs.
 */
import { defaultGuestRuntimePath } from "../executor-paths";
import { Executor } from "./executor";
import { EXECUTOR_ENV, isPoolMessage, type ExecutorToPool } from "./protocol";

function main(): void {
  if (typeof process.send !== "function") {
    process.stderr.write("tau executor: must be started by the executor pool (no IPC channel)\n");
    process.exit(2);
  }

  // A stray exception or rejection (a driver callback, a bug) must not take every run in this process down.
  process.on("uncaughtException", (err) => {
    process.stderr.write(`tau executor ${process.pid}: uncaught exception (kept running): ${err?.stack ?? String(err)}\n`);
  });
  process.on("unhandledRejection", (reason) => {
    process.stderr.write(`tau executor ${process.pid}: unhandled rejection (kept running): ${(reason as Error)?.stack ?? String(reason)}\n`);
  });

  const write = (message: ExecutorToPool): void => {
    if (!process.connected) return;
    try {
      process.send!(message);
    } catch (err) {
      process.stderr.write(`tau executor ${process.pid}: cannot send to the pool: ${(err as Error).message}\n`);
    }
  };
  // What one event-loop turn produces (a run's step events, its outcome) goes out as one IPC message: one
  // serialisation and one write instead of one per message. setImmediate runs after this turn's I/O
  // callbacks, so nothing waits longer than the turn it was produced in.
  let queued: ExecutorToPool[] = [];
  const flush = (): void => {
    const messages = queued;
    queued = [];
    if (messages.length === 1) write(messages[0]!);
    else if (messages.length > 1) write({ t: "batch", messages });
  };
  const send = (message: ExecutorToPool): void => {
    queued.push(message);
    if (queued.length === 1) setImmediate(flush);
  };

  const executor = new Executor({
    guestRuntimePath: process.env[EXECUTOR_ENV.guestRuntime] || defaultGuestRuntimePath(),
    testHooks: process.env[EXECUTOR_ENV.testHooks] === "1",
    send,
  });

  process.on("message", (message: unknown) => {
    if (!isPoolMessage(message)) return;
    if (message.t === "shutdown") {
      void executor.shutdown().then(() => setImmediate(() => process.exit(0)));
      return;
    }
    executor.handle(message);
  });
  // The pool is gone (daemon died): nobody can receive outcomes; stop.
  process.on("disconnect", () => process.exit(0));

  // The runtime's code cache is made before the first run (a few ms, once); a failure only costs speed.
  void executor.warmUp().then(() => send({ t: "ready", pid: process.pid }));
}

main();
