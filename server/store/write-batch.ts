/**
 * Groups the hot path's writes (run state, steps, events) into one transaction per event-loop tick.
 *
 * Each operation is a list of statements plus how to read its event from their rows; every operation is a
 * state change, so each stores and returns exactly one event. A batch runs the statements of all its
 * operations in submission order as one script (on PostgreSQL: one round trip; sql.ts), so events take
 * their seqs in submission order. When the transaction commits, the stored events are handed to
 * `onCommitted` in commit order (that is, seq order) and each operation's promise resolves — so an event is
 * always persisted before anyone hears of it. Batches never overlap, which keeps publication in seq order.
 *
 * When a batch fails, its operations are retried one transaction each, so a single bad operation fails
 * alone instead of taking its neighbours (other runs' events) down with it.
 */
import type { Database } from "./database";
import type { SqlStep } from "./sql";

/** A state change: its statements, and its event read from their rows (one array of rows per statement). */
export interface BatchOperation<E> {
  steps: SqlStep[];
  event: (rows: unknown[][]) => E;
}

interface Pending<E> {
  operation: BatchOperation<E>;
  resolve: (event: E) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher<E> {
  private pending: Pending<E>[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    /** Called with each committed batch's events, in commit (seq) order. */
    private readonly onCommitted: (events: E[]) => void,
  ) {}

  /** Queues `operation` for the next batch; resolves with its event once the batch has committed. */
  submit(operation: BatchOperation<E>): Promise<E> {
    return new Promise<E>((resolve, reject) => {
      this.pending.push({ operation, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.schedule());
      }
    });
  }

  /** Resolves when everything submitted so far has been committed (or has failed). */
  flush(): Promise<void> {
    if (this.pending.length > 0) this.schedule();
    return this.chain;
  }

  private schedule(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.chain = this.chain.then(() => this.commit(batch));
  }

  private async commit(batch: Pending<E>[]): Promise<void> {
    const steps: SqlStep[] = [];
    for (const p of batch) for (const s of p.operation.steps) steps.push(s);
    let rows: unknown[][] | undefined;
    try {
      rows = await this.db.writeScript("write batch", steps);
    } catch {
      rows = undefined;
    }
    if (rows) {
      let at = 0;
      const stored = rows;
      this.settle(batch, () =>
        batch.map((p) => {
          const n = p.operation.steps.length;
          at += n;
          return p.operation.event(stored.slice(at - n, at));
        }),
      );
      return;
    }
    for (const p of batch) {
      let mine: unknown[][];
      try {
        mine = await this.db.writeScript("write", p.operation.steps);
      } catch (err) {
        p.reject(err);
        continue;
      }
      this.settle([p], () => [p.operation.event(mine)]);
    }
  }

  /** Publishes and resolves committed operations. Reading an event cannot undo its commit: no retry then. */
  private settle(committed: Pending<E>[], read: () => E[]): void {
    let events: E[];
    try {
      events = read();
    } catch (err) {
      for (const p of committed) p.reject(err);
      return;
    }
    this.onCommitted(events);
    committed.forEach((p, i) => p.resolve(events[i]!));
  }
}
