/**
 * The daemon's database: mikro-orm (entities, the ORM's repositories, migrations) plus the raw statements
 * of the hot path, which run through the dialect seam (sql.ts) on either backend:
 *
 * - SQLite (`<home>/tau.db`, WAL mode; the default): the writer is knex's pool of exactly one connection
 *   (min = max = 1). The ORM takes it for each query and holds it for a whole transaction; raw write
 *   transactions (`write`) take it from the same pool, so an ORM transaction and a raw batch never
 *   interleave — the pool is the write lock. Raw reads (`read`) go to a read-only connection: never queued
 *   behind the writer, and they see committed data only (WAL snapshot isolation) — so an event is visible
 *   there only once stored.
 * - PostgreSQL (`TAU_DATABASE_URL`): the ORM's own pool, and the store's pg pool for raw statements
 *   (pg-executor.ts). PostgreSQL's MVCC does what the single writer does for sqlite; the write batcher still
 *   commits one batch at a time, which keeps the event log's seq in commit order. One API daemon per
 *   database: two would each publish only their own events and both recover "interrupted" runs at start.
 *
 * The schema is the migrations' (migrate.ts), run at open for both dialects.
 */
import { join } from "node:path";
import { MikroORM as SqliteORM, type AbstractSqlDriver, type EntityManager } from "@mikro-orm/better-sqlite";
import { DriverException, type MikroORM as AnyORM } from "@mikro-orm/core";
import { Migrator } from "@mikro-orm/migrations";
import { MikroORM as PostgresORM } from "@mikro-orm/postgresql";
import type { Pool } from "pg";
import { TauError } from "../contract";
import { ENTITIES } from "./entities";
import { errorMessage, isConnectionError, redactUrl, storeErrorToTau } from "./errors";
import { migrate, MIGRATIONS } from "./migrate";
import { createPgPool, pgTransaction, PgExecutor } from "./pg-executor";
import type { Dialect, SqlExecutor, SqlStep } from "./sql";
import { SqliteExecutor, type SqliteConnection } from "./sqlite-executor";

export type { SqliteConnection } from "./sqlite-executor";

/** Either dialect's ORM: both drivers are knex-based SQL drivers with the same EntityManager. */
export type MikroORM = AnyORM<AbstractSqlDriver>;

interface KnexClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection): Promise<unknown>;
  /** The better-sqlite3 module knex loaded. */
  driver: new (file: string, options: { readonly: boolean; fileMustExist: boolean }) => SqliteConnection & { close(): void };
}

export interface DatabaseOptions {
  /** The daemon's home, named in errors; with no `url`, the SQLite file is `<home>/tau.db` unless `file` says. */
  home: string;
  /** The SQLite file (default `<home>/tau.db`). */
  file?: string;
  /** A postgres:// URL: keep everything in that PostgreSQL database instead of SQLite. */
  url?: string | null;
}

/** How raw statements reach the database (one per dialect). */
interface RawBackend {
  read<T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  write<T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  writeScript(steps: readonly SqlStep[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

/** Raw connections of the PostgreSQL backend (the ORM has its own pool besides). */
const PG_POOL_SIZE = 8;

export class Database {
  private closed = false;

  /** Use `Database.open`. */
  constructor(
    readonly orm: MikroORM,
    readonly dialect: Dialect,
    private readonly context: { home: string; url?: string },
    private readonly raw: RawBackend,
  ) {}

  /** Opens (creating when missing) the database and migrates its schema to the newest migration. */
  static async open(options: DatabaseOptions): Promise<Database> {
    return options.url ? openPostgres(options.url, options.home) : openSqlite(options.file ?? join(options.home, "tau.db"), options.home);
  }

  /** A fresh EntityManager for one unit of work (a request, a deploy). Never share one across requests. */
  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** Runs ORM work on a fresh EntityManager, converting database errors to Tau codes. */
  async query<T>(operation: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await fn(this.em());
    } catch (err) {
      throw this.convert(err, operation);
    }
  }

  /** Runs ORM work in one transaction (committed when `fn` resolves, rolled back when it throws). */
  async transaction<T>(operation: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.query(operation, (em) => em.transactional(fn));
  }

  /**
   * Runs raw statements in one transaction (committed when `fn` resolves, rolled back when it throws). On
   * SQLite it holds the single writer connection throughout, excluding ORM transactions.
   */
  async write<T>(operation: string, fn: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      return await this.raw.write(fn);
    } catch (err) {
      throw this.convert(err, operation);
    }
  }

  /**
   * Runs statements in order as one transaction and answers each one's rows: `write` with a single script,
   * which on PostgreSQL is one round trip (a multi-statement query is one implicit transaction) instead of
   * begin, script and commit.
   */
  async writeScript(operation: string, steps: readonly SqlStep[]): Promise<unknown[][]> {
    try {
      return await this.raw.writeScript(steps);
    } catch (err) {
      throw this.convert(err, operation);
    }
  }

  /** Runs raw reads of committed data; on SQLite on the read-only connection, never waiting for the writer. */
  async read<T>(operation: string, fn: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      return await this.raw.read(fn);
    } catch (err) {
      throw this.convert(err, operation);
    }
  }

  /** Converts any error raised by the ORM or by a raw driver into a Tau error. */
  convert(err: unknown, operation: string): TauError {
    const converted = isRawDriverError(err) ? this.orm.em.getDriver().convertException(err) : err;
    return storeErrorToTau(converted, { ...this.context, operation });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.raw.close();
    await this.orm.close(true);
  }
}

function ormOptions(dialect: Dialect, home: string) {
  return {
    entities: ENTITIES,
    // Only MIKRO_ORM_* keys of a .env file are read; point it at the home, not the cwd.
    baseDir: home,
    metadataCache: { enabled: false },
    allowGlobalContext: false,
    debug: false,
    extensions: [Migrator],
    migrations: {
      // Bundled into dist/ by esbuild: an explicit list, never a glob over files.
      migrationsList: MIGRATIONS[dialect],
      silent: true,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
    },
  };
}

async function openSqlite(file: string, home: string): Promise<Database> {
  let orm: MikroORM | undefined;
  try {
    orm = await SqliteORM.init({ ...ormOptions("sqlite", home), dbName: file, pool: { min: 1, max: 1, idleTimeoutMillis: 2 ** 31 - 1 } });
    const connection = orm.em.getConnection();
    await connection.execute("pragma journal_mode = WAL");
    // WAL + NORMAL: a committed transaction survives a process crash; only an OS crash or power loss may
    // lose the last few, which is the usual trade for an embedded orchestrator's log tables.
    await connection.execute("pragma synchronous = NORMAL");
    await migrate(orm, "sqlite");
    const client = connection.getKnex().client as unknown as KnexClient;
    const reader = new client.driver(file, { readonly: true, fileMustExist: true });
    const readerExecutor = SqliteExecutor.of(reader);
    const write = async <T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T> => {
      const writer = await client.acquireConnection();
      try {
        return await SqliteExecutor.of(writer).transaction(fn);
      } finally {
        await client.releaseConnection(writer);
      }
    };
    const raw: RawBackend = {
      read: (fn) => fn(readerExecutor),
      write,
      writeScript: (steps) => write((c) => c.script(steps)),
      close: async () => reader.close(),
    };
    return new Database(orm, "sqlite", { home }, raw);
  } catch (err) {
    await orm?.close(true).catch(() => undefined);
    // Whatever failed here (folder not writable, not a database, disk full), the file is the problem.
    throw new TauError("TAU_E_STORE_FAILED", `Cannot open the database ${file}: ${errorMessage(err)}`, { home, file, operation: "open" });
  }
}

async function openPostgres(url: string, home: string): Promise<Database> {
  const shown = redactUrl(url);
  let orm: MikroORM | undefined;
  let pool: Pool | undefined;
  try {
    pool = createPgPool(url, PG_POOL_SIZE);
    // An idle connection the server dropped: the pool discards it and the next query reconnects (or fails
    // with a converted error). Without a listener, pg's 'error' event would end the process.
    pool.on("error", () => undefined);
    // Fails fast, with the driver's own words, when the server is unreachable or the database is missing.
    await pool.query("select 1");
    orm = await PostgresORM.init({
      ...ormOptions("postgresql", home),
      clientUrl: url,
      ensureDatabase: false,
      // knex prints "Connection Error: …" on stderr (not a JSON log line) when the server drops an idle
      // connection; the pool replaces it and the next query says so if the server is really gone.
      driverOptions: { log: { warn: (message: unknown) => (/^Connection Error/.test(String(message)) ? undefined : console.warn(message)) } },
    });
    await migrate(orm, "postgresql", pool);
    const rawPool = pool;
    const reader = new PgExecutor(rawPool);
    const raw: RawBackend = {
      read: (fn) => fn(reader),
      write: (fn) => pgTransaction(rawPool, fn),
      // No begin/commit: PostgreSQL runs a multi-statement simple query as one implicit transaction (and a
      // single statement is atomic by itself), so a batch is one round trip.
      writeScript: (steps) => reader.script(steps),
      close: () => rawPool.end(),
    };
    return new Database(orm, "postgresql", { home, url: shown }, raw);
  } catch (err) {
    await orm?.close(true).catch(() => undefined);
    await pool?.end().catch(() => undefined);
    throw new TauError(
      "TAU_E_STORE_FAILED",
      `Cannot open the PostgreSQL database ${shown}: ${errorMessage(err)}`,
      { url: shown, operation: "open", ...(isConnectionError(err) ? { reachable: false } : {}) },
      "Check TAU_DATABASE_URL (details.url; the password is not shown): the server must be reachable from this host, the database must exist and the user must be allowed to create tables in it.",
    );
  }
}

/** An error thrown by better-sqlite3 or pg directly (the raw path), before the ORM's converter saw it. */
function isRawDriverError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error) || err instanceof DriverException) return false;
  if (err.name === "SqliteError") return true;
  // pg's DatabaseError: a SQLSTATE code and a severity.
  const e = err as Error & { code?: unknown; severity?: unknown };
  return typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === "string";
}
