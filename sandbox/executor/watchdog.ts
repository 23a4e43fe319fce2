/**
 * The limits an isolate cannot enforce on itself. A wall-clock deadline and a CPU budget (polling
 * `isolate.cpuTime`) both end the isolate by disposing it: `timeout` on a single call does not stop a loop
 * that starts after an awaited host call, only `dispose()` does. A disposal the host did not ask for is
 * isolated-vm's memory limit.
 */
import type ivm from "isolated-vm";

export type Termination = "timeout" | "cpu" | "memory" | "cancelled";

export interface WatchdogLimits {
  wallMs: number;
  cpuMs: number;
  /** How often the CPU time is read (default 20 ms). */
  pollMs?: number;
}

export class Watchdog {
  private reason: Termination | null = null;
  private readonly wallTimer: NodeJS.Timeout;
  private readonly pollTimer: NodeJS.Timeout;
  private readonly listeners: Array<(reason: Termination) => void> = [];
  private readonly cpuBudgetNs: bigint;

  constructor(
    private readonly isolate: ivm.Isolate,
    limits: WatchdogLimits,
  ) {
    // CPU the isolate used before the watchdog started (a spare isolate's runtime setup) is not the run's.
    this.cpuBudgetNs = BigInt(Math.max(1, Math.floor(limits.cpuMs))) * 1_000_000n + isolate.cpuTime;
    // setTimeout takes at most 2^31-1 ms; longer deadlines are capped there (~24.8 days).
    this.wallTimer = setTimeout(() => this.trip("timeout"), Math.min(Math.max(1, limits.wallMs), 2 ** 31 - 1));
    this.pollTimer = setInterval(() => this.poll(), limits.pollMs ?? 20);
  }

  /** Why the isolate was ended, or null while it runs. */
  get terminated(): Termination | null {
    return this.reason;
  }

  /** Called once, when the isolate is ended for any reason. */
  onTrip(listener: (reason: Termination) => void): void {
    if (this.reason) listener(this.reason);
    else this.listeners.push(listener);
  }

  /** Ends the isolate now (cancel, or a limit). Idempotent: the first reason wins. */
  trip(reason: Termination): void {
    if (this.reason) return;
    this.reason = reason;
    this.stop();
    try {
      if (!this.isolate.isDisposed) this.isolate.dispose();
    } catch {
      // already disposed
    }
    for (const l of this.listeners.splice(0)) l(reason);
  }

  /**
   * Classifies an error from a call into the isolate: a limit we enforced, isolated-vm's memory limit, or null
   * when the error is the guest's own.
   */
  classify(err: unknown): Termination | null {
    if (this.reason) return this.reason;
    const message = err instanceof Error ? err.message : String(err);
    if (/memory limit/i.test(message) || this.isolate.isDisposed) {
      this.trip("memory");
      return "memory";
    }
    return null;
  }

  stop(): void {
    clearTimeout(this.wallTimer);
    clearInterval(this.pollTimer);
  }

  private poll(): void {
    if (this.reason) return;
    try {
      if (this.isolate.isDisposed) {
        this.trip("memory");
        return;
      }
      if (this.isolate.cpuTime > this.cpuBudgetNs) this.trip("cpu");
    } catch {
      // cpuTime on a disposed isolate throws: isolated-vm disposed it for memory
      this.trip("memory");
    }
  }
}
