/**
 * One DuckDB instance per database file within an executor process, shared by the concurrent runs that
 * use it (refcounted) and closed when the last user releases it — DuckDB lets one process hold a file for
 * writing, and the other executors are other processes that may want it next. Opening a file another process
 * holds is retried with backoff until `busyTimeoutMs`, then fails with TAU_E_CONNECTOR_BUSY.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { convertDuckDbError, isDuckDbLockConflict } from "./duckdb-errors";

export const MEMORY_DATABASE = ":memory:";

export interface DuckDbLease {
  readonly path: string;
  /** A connection to the instance, closed with the lease. */
  connect(): Promise<DuckDBConnection>;
  /**
   * Gives the lease back: closes its connections, and the instance when no lease is left (a DuckDB database
   * stays open, holding the file's lock, while any connection to it lives). Idempotent.
   */
  release(): void;
}

interface Entry {
  configKey: string;
  opening: Promise<DuckDBInstance>;
  instance: DuckDBInstance | null;
  refs: number;
  connections: Set<DuckDBConnection>;
}

export interface DuckDbInstanceCacheOptions {
  /** First retry delay after a lock conflict (doubles up to maxBackoffMs). Default 25 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class DuckDbInstanceCache {
  private readonly entries = new Map<string, Entry>();
  private readonly memory = new Set<Entry>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(options: DuckDbInstanceCacheOptions = {}) {
    this.initialBackoffMs = options.initialBackoffMs ?? 25;
    this.maxBackoffMs = options.maxBackoffMs ?? 400;
  }

  /** Files currently open in this process, with their number of users. */
  openFiles(): Array<{ path: string; refs: number }> {
    return [...this.entries].map(([path, e]) => ({ path, refs: e.refs }));
  }

  /**
   * Leases the instance for `path` (an absolute file path, or `:memory:` which is never shared). Waits up to
   * `busyTimeoutMs` while another process holds the file.
   */
  async acquire(path: string, busyTimeoutMs: number, config: Record<string, string> = {}): Promise<DuckDbLease> {
    const configKey = JSON.stringify(Object.entries(config).sort());
    if (path === MEMORY_DATABASE) {
      const instance = await this.create(path, busyTimeoutMs, config);
      const own: Entry = { configKey, opening: Promise.resolve(instance), instance, refs: 1, connections: new Set() };
      this.memory.add(own);
      return this.lease(path, own, () => {
        this.memory.delete(own);
        closeEntry(own);
      });
    }
    let entry = this.entries.get(path);
    if (entry && entry.configKey !== configKey) {
      // Same file, other settings (another tenant policy): DuckDB cannot open one file twice in a process.
      throw new TauError("TAU_E_CONNECTOR_BUSY", "The DuckDB file is open in this executor with other settings; retry when that run ends.", {
        duckdbError: null,
      });
    }
    if (!entry) {
      const fresh: Entry = { configKey, opening: this.create(path, busyTimeoutMs, config), instance: null, refs: 0, connections: new Set() };
      entry = fresh;
      this.entries.set(path, fresh);
      fresh.opening.then(
        (instance) => {
          fresh.instance = instance;
        },
        () => {
          if (this.entries.get(path) === fresh) this.entries.delete(path);
        },
      );
    }
    entry.refs++;
    try {
      await entry.opening;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    const owner = entry;
    return this.lease(path, owner, () => {
      owner.refs--;
      if (owner.refs === 0 && this.entries.get(path) === owner) {
        this.entries.delete(path);
        closeEntry(owner);
      }
    });
  }

  private lease(path: string, entry: Entry, onRelease: () => void): DuckDbLease {
    const mine = new Set<DuckDBConnection>();
    let released = false;
    return {
      path,
      connect: async () => {
        if (released || !entry.instance) throw convertDuckDbError(new Error("IO Error: the database was closed"));
        const connection = await entry.instance.connect();
        mine.add(connection);
        entry.connections.add(connection);
        return connection;
      },
      release: () => {
        if (released) return;
        released = true;
        for (const c of mine) {
          entry.connections.delete(c);
          closeQuietly(c);
        }
        onRelease();
      },
    };
  }

  /** Closes every connection and instance (executor shutdown). Leases still out become unusable. */
  closeAll(): void {
    for (const [path, entry] of this.entries) {
      this.entries.delete(path);
      if (entry.instance) closeEntry(entry);
      else entry.opening.then(() => closeEntry(entry), () => undefined);
    }
    for (const entry of this.memory) closeEntry(entry);
    this.memory.clear();
  }

  private async create(path: string, busyTimeoutMs: number, config: Record<string, string>): Promise<DuckDBInstance> {
    const started = Date.now();
    let delay = this.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await DuckDBInstance.create(path, config);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!isDuckDbLockConflict(message)) throw convertDuckDbError(err);
        const waited = Date.now() - started;
        if (waited + delay > busyTimeoutMs) {
          throw new TauError(
            "TAU_E_CONNECTOR_BUSY",
            `The DuckDB file is held by another process; gave up after ${waited} ms and ${attempt} attempts.`,
            { waitedMs: waited, attempts: attempt, duckdbError: "IO Error", holder: holderOf(message) },
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.maxBackoffMs);
      }
    }
  }
}

function closeQuietly(closable: { closeSync(): void }): void {
  try {
    closable.closeSync();
  } catch {
    // already closed
  }
}

function closeEntry(entry: Entry): void {
  for (const c of entry.connections) closeQuietly(c);
  entry.connections.clear();
  if (entry.instance) closeQuietly(entry.instance);
}

function holderOf(message: string): string | null {
  const pid = /\(PID (\d+)\)/.exec(message);
  return pid ? `pid ${pid[1]}` : null;
}
