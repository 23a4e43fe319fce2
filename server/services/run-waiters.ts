/**
 * Who waits for which run to finish (`tau run` holding its answer, cancel waiting for a run to stop, graph
 * runs). The run service wakes a run's waiters right after the run's end is stored.
 */
export class RunWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  /**
   * Resolves when `runId` is woken, when `isDone()` is already true, after `timeoutMs`, or when `signal`
   * aborts — whichever comes first. Never rejects.
   */
  async wait(runId: string, isDone: () => boolean | Promise<boolean>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    // Register first, then look: a run finishing in between still wakes us.
    let set = this.waiters.get(runId);
    if (!set) this.waiters.set(runId, (set = new Set()));
    set.add(wake);
    const timer = setTimeout(wake, timeoutMs);
    const onAbort = (): void => wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (await isDone()) return;
      await woken;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(runId) === set) this.waiters.delete(runId);
    }
  }

  /** Wakes everyone waiting for `runId`. */
  wake(runId: string): void {
    for (const wake of this.waiters.get(runId) ?? []) wake();
  }
}
