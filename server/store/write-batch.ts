/**
 * Groups the hot path's writes (run state, steps, events) into one transaction per event-loop tick.
 *
 * Each operation is a function run on the raw connection inside the batch's transaction (operations run
 * one after another, never concurrently, so their events take seqs in submission order); every
 * operation is a state change, so each stores and returns exactly one event. When the transaction commits, the stored events are handed to
 * `onCommitted` in commit order (that is, seq order) and each operation's promise resolves — so an event is
 * always persisted before anyone hears of it. Batches never overlap, which keeps publication in seq order.
 *
 * When a batch fails, its operations are retried one transaction each, so a single bad operation fails
 * alone instead of taking its neighbours (other runs' events) down with it.
 */
import type { Database } from "./database";
import type { SqlExecutor } from "./sql";

export type BatchOperation<E> = (executor: SqlExecutor) => Promise<E>;

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
    let events: E[] | undefined;
    try {
      events = await this.db.write("write batch", async (executor) => {
        const stored: E[] = [];
        for (const p of batch) stored.push(await p.operation(executor));
        return stored;
      });
    } catch {
      events = undefined;
    }
    if (events) {
      this.onCommitted(events);
      batch.forEach((p, i) => p.resolve(events![i]!));
      return;
    }
    for (const p of batch) {
      try {
        const event = await this.db.write("write", (executor) => p.operation(executor));
        this.onCommitted([event]);
        p.resolve(event);
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
