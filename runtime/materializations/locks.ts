/**
 * In-process serialisation of runs on one target. Engines with a server-side lock (PostgreSQL advisory locks,
 * MySQL GET_LOCK) also lock there, across processes; for the others (DuckDB's single writer process, the
 * warehouses) this is the lock. One instance per executor process (the engine's default) or per test.
 */
export class TargetLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves once every earlier holder of `key` released; call the returned function to release. */
  async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
