/**
 * Retries waiting out their backoff. They are queued runs in the store (`notBefore` set) but stay out of
 * the run queue, so they hold no slot; when their time comes they are handed back to be queued.
 */
export class PendingRetries<T extends { runId: string }> {
  private readonly pending = new Map<string, { run: T; timer: NodeJS.Timeout | null }>();

  get size(): number {
    return this.pending.size;
  }

  /** Held runs matching `filter`. */
  count(filter: (run: T) => boolean): number {
    let n = 0;
    for (const { run } of this.pending.values()) if (filter(run)) n++;
    return n;
  }

  /** Holds `run` from now on (before its row is written, so it can be cancelled at any moment). */
  hold(run: T): void {
    this.pending.set(run.runId, { run, timer: null });
  }

  /** At `notBefore` (ms), hands the run to `due` unless it was taken meanwhile. False when it already was. */
  arm(runId: string, notBefore: number, due: (run: T) => void): boolean {
    const entry = this.pending.get(runId);
    if (!entry) return false;
    entry.timer = setTimeout(() => {
      if (this.pending.get(runId) !== entry) return;
      this.pending.delete(runId);
      due(entry.run);
    }, Math.max(0, notBefore - Date.now()));
    return true;
  }

  /** Takes a held run out (cancel, or a failed write); null when it is not held. */
  take(runId: string): T | null {
    const entry = this.pending.get(runId);
    if (!entry) return null;
    this.pending.delete(runId);
    if (entry.timer) clearTimeout(entry.timer);
    return entry.run;
  }

  /** Takes every held run out (shutdown). */
  drain(): T[] {
    return [...this.pending.keys()].map((runId) => this.take(runId)!);
  }
}
