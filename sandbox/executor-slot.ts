/**
 * One executor process as the pool sees it: fork (`--no-node-snapshot`, IPC), messages in and out, stderr
 * forwarded, kill, graceful stop, and restarts with backoff when it keeps dying. What happens to the work it
 * had is the pool's business (pool.ts); the slot only reports that the process is gone.
 */
import { fork, type ChildProcess } from "node:child_process";
import type { ExecutorStatus } from "../server/contract";
import { isExecutorMessage, type ExecutorToPool, type PoolToExecutor } from "./executor/protocol";

export interface SlotProcessOptions {
  executorPath: string;
  env: NodeJS.ProcessEnv;
  onStderr: (executorId: number, line: string) => void;
}

export interface ExitInfo {
  pid: number | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the pool killed it, or why it could not be forked; null when it died on its own. */
  reason: string | null;
  /** It died before reporting ready. */
  beforeReady: boolean;
}

export interface SlotHandlers {
  onReady(): void;
  onMessage(message: ExecutorToPool): void;
  onExit(info: ExitInfo): void;
}

/** Crashes within this window count toward the restart backoff. */
const CRASH_WINDOW_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

export class ExecutorSlot<T> {
  pid: number | null = null;
  state: ExecutorStatus["state"] = "starting";
  restarts = 0;
  /** The work in flight on this executor (owned by the pool). */
  readonly tickets = new Map<string, T>();
  /** The executor reported a wedged isolate: it gets no new work and is replaced once idle. */
  draining = false;
  /** Bundles the executor process holds (key → characters), least recently used first; see pool.ts sendRun. */
  readonly bundles = new Map<string, number>();
  /** The last lines it wrote to stderr, for start failures. */
  readonly stderrTail: string[] = [];
  private child: ChildProcess | null = null;
  private killReason: string | null = null;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    readonly id: number,
    private readonly o: SlotProcessOptions,
    private readonly handlers: SlotHandlers,
  ) {}

  get alive(): boolean {
    return this.child !== null;
  }

  spawn(): void {
    this.state = "starting";
    this.killReason = null;
    this.draining = false;
    this.pid = null;
    this.bundles.clear();
    let child: ChildProcess;
    try {
      child = fork(this.o.executorPath, [], {
        execArgv: ["--no-node-snapshot"],
        env: this.o.env,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        serialization: "json",
      });
    } catch (err) {
      this.exited(null, null, `fork failed: ${(err as Error).message}`);
      return;
    }
    this.child = child;
    this.pid = child.pid ?? null;
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line === "") continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
        this.o.onStderr(this.id, line);
      }
    };
    child.stdout?.on("data", forward);
    child.stderr?.on("data", forward);
    const handle = (m: ExecutorToPool): void => {
      if (this.child !== child) return;
      if (m.t === "batch") {
        for (const inner of Array.isArray(m.messages) ? m.messages : []) if (isExecutorMessage(inner) && inner.t !== "batch") handle(inner);
        return;
      }
      if (m.t === "ready") {
        this.pid = m.pid;
        this.state = "ready";
        this.handlers.onReady();
        return;
      }
      this.handlers.onMessage(m);
    };
    child.on("message", (m: unknown) => {
      if (isExecutorMessage(m)) handle(m);
    });
    // Spawn or IPC failure; `exit` follows when the process is gone.
    child.on("error", (err) => this.log(`executor process error: ${err.message}`));
    child.once("exit", (code, signal) => {
      if (this.child === child) this.exited(code, signal, null);
    });
  }

  send(message: PoolToExecutor): void {
    const child = this.child;
    if (!child || !child.connected) return; // its exit fails the work
    try {
      child.send(message, (err) => {
        if (err) this.log(`cannot send to executor: ${err.message}`);
      });
    } catch (err) {
      this.log(`cannot send to executor: ${(err as Error).message}`);
    }
  }

  /** SIGKILL, remembering why (the reason goes into the details of the runs it fails). */
  kill(reason: string): void {
    if (!this.child) return;
    this.killReason = reason;
    this.log(`killing executor ${this.pid}: ${reason}`);
    this.child.kill("SIGKILL");
  }

  /** Stops giving it work; kills it once `idle()` says so or after `maxMs`. */
  drain(reason: string, maxMs: number): void {
    if (this.draining) return;
    this.draining = true;
    this.log(`executor ${this.pid} is wedged (${reason}); replacing it once its other runs end`);
    this.drainTimer = setTimeout(() => this.kill(`wedged: ${reason}`), maxMs);
  }

  /** Restarts the process after an exit, at once the first time, then with growing delays. */
  scheduleRestart(): void {
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashTimes.push(now);
    const recent = this.crashTimes.length;
    const delay = recent <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (recent - 2));
    if (delay > 0) this.log(`restarting executor in ${delay} ms (${recent} exits in the last minute)`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarts++;
      this.spawn();
    }, delay);
  }

  /** Asks the executor to shut down; kills it if it has not exited after `killAfterMs`. */
  async stop(killAfterMs = 5000): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    const child = this.child;
    if (!child) {
      this.state = "dead";
      return;
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.send({ t: "shutdown" });
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    await exited;
    clearTimeout(timer);
    this.state = "dead";
  }

  log(line: string): void {
    this.o.onStderr(this.id, line);
  }

  private exited(code: number | null, signal: NodeJS.Signals | null, spawnError: string | null): void {
    const info: ExitInfo = {
      pid: this.pid,
      exitCode: code,
      signal,
      reason: this.killReason ?? spawnError,
      beforeReady: this.state === "starting",
    };
    this.clearTimers();
    this.child = null;
    this.state = "dead";
    if (!this.stopping) this.log(`executor ${info.pid ?? "?"} ${signal ? `died (${signal})` : `exited (${code})`}${info.reason ? `: ${info.reason}` : ""}`);
    this.handlers.onExit(info);
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.restartTimer = null;
    this.drainTimer = null;
  }
}
