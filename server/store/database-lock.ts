/**
 * One API daemon per PostgreSQL database, the counterpart of home-lock.ts for SQLite. Two API daemons on
 * one store would each take over the other's unfinished runs at start, keep separate run queues and miss
 * each other's events (docs/hosted.md, "Store"); the second is refused with TAU_E_DATABASE_LOCKED.
 * Workers (`taud worker`) share the database without this lock.
 *
 * The lock is a session-level advisory lock held by one dedicated connection for the daemon's life, so it is
 * released by PostgreSQL itself when the daemon dies, however it dies. The holder names itself in its
 * connection's application_name (`taud-api <host> <pid>`), which the refusal reports.
 */
import { hostname } from "node:os";
import pg from "pg";
import { TauError } from "../contract";
import { errorMessage, redactUrl } from "./errors";

/** pg_try_advisory_lock(int, int) key: "ta" and 1, apart from the migration lock (migrate.ts). */
const LOCK_KEY = [0x7461, 1] as const;
const APP_PREFIX = "taud-api";

export interface DatabaseLockOptions {
  url: string;
  /** The lock's connection broke (server restart, network): it is no longer held. */
  onLost: (err: Error) => void;
}

export class DatabaseLock {
  private released = false;

  private constructor(private readonly client: pg.Client) {}

  static async acquire(o: DatabaseLockOptions): Promise<DatabaseLock> {
    const shown = redactUrl(o.url);
    const client = new pg.Client({ connectionString: o.url, application_name: `${APP_PREFIX} ${hostname()} ${process.pid}`.slice(0, 63) });
    // Until the lock is held, a dropped connection is reported by the query that fails.
    client.on("error", () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1, $2) as locked", [...LOCK_KEY]);
      if (!rows[0]?.locked) {
        const holder = await client.query<{ application_name: string; client_addr: string | null }>(
          `select a.application_name, a.client_addr::text as client_addr from pg_locks l join pg_stat_activity a on a.pid = l.pid
           where l.locktype = 'advisory' and l.classid = $1 and l.objid = $2 and l.granted and l.database = (select oid from pg_database where datname = current_database())`,
          [...LOCK_KEY],
        );
        const row = holder.rows[0];
        const [, host, pid] = (row?.application_name ?? "").split(" ");
        throw new TauError(
          "TAU_E_DATABASE_LOCKED",
          `Another taud API daemon${pid ? ` (pid ${pid} on ${host})` : ""} is already using the database ${shown}.`,
          { url: shown, host: host ?? null, pid: pid ? Number(pid) : null, clientAddr: row?.client_addr ?? null },
        );
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      if (err instanceof TauError) throw err;
      throw new TauError("TAU_E_STORE_FAILED", `Cannot take the daemon lock in ${shown}: ${errorMessage(err)}`, { url: shown, operation: "lock" });
    }
    const lock = new DatabaseLock(client);
    client.removeAllListeners("error");
    // pg reports a dropped connection as 'error' (with a query in flight) or only as 'end' (idle).
    let reported = false;
    const lost = (err: Error): void => {
      if (lock.released || reported) return;
      reported = true;
      o.onLost(err);
    };
    client.on("error", lost);
    client.on("end", () => lost(new Error("The database lock's connection ended.")));
    return lock;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.client.end().catch(() => undefined);
  }
}
