/**
 * The daemon's database: mikro-orm over better-sqlite3, one file `<home>/tau.db` in WAL mode, two
 * connections:
 *
 * - the writer, knex's pool of exactly one connection (min = max = 1). The ORM takes it for each query and
 *   holds it for a whole transaction; the hot path's batches (`write`) take it from the same pool, so an ORM
 *   transaction and a raw batch never interleave — the pool is the write lock. Raw work runs synchronously
 *   while it holds the connection, so it is atomic with respect to the event loop.
 * - a read-only reader for the hot reads (`read`): synchronous, never queued behind the writer's pool, and
 *   it sees committed data only (WAL snapshot isolation) — so an event is visible there only once stored.
 */
import { MikroORM, type EntityManager } from "@mikro-orm/better-sqlite";
import { ENTITIES } from "./entities";
import { errorMessage, storeErrorToTau } from "./errors";
import { TauError } from "../contract";

/** The part of better-sqlite3's API the hot path uses (the package ships no types). */
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

interface KnexClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection): Promise<unknown>;
  /** The better-sqlite3 module knex loaded. */
  driver: new (file: string, options: { readonly: boolean; fileMustExist: boolean }) => SqliteConnection & { close(): void };
}

export interface DatabaseOptions {
  /** The SQLite file. */
  file: string;
  /** The daemon's home, named in errors. */
  home: string;
}

export class Database {
  private closed = false;

  private constructor(
    readonly orm: MikroORM,
    private readonly options: DatabaseOptions,
    private readonly client: KnexClient,
    private readonly reader: SqliteConnection & { close(): void },
  ) {}

  /**
   * Opens (creating when missing) the database and brings its schema up to date.
   * TODO(migrations): `updateSchema()` is a stop-gap until the migrations issue lands; it cannot rename
   * columns or move data, so every schema change until then must be additive.
   */
  static async open(options: DatabaseOptions): Promise<Database> {
    let orm: MikroORM | undefined;
    try {
      orm = await MikroORM.init({
        dbName: options.file,
        entities: ENTITIES,
        // Only MIKRO_ORM_* keys of a .env file are read; point it at the home, not the cwd.
        baseDir: options.home,
        metadataCache: { enabled: false },
        allowGlobalContext: false,
        debug: false,
        pool: { min: 1, max: 1, idleTimeoutMillis: 2 ** 31 - 1 },
      });
      const connection = orm.em.getConnection();
      await connection.execute("pragma journal_mode = WAL");
      // WAL + NORMAL: a committed transaction survives a process crash; only an OS crash or power loss may
      // lose the last few, which is the usual trade for an embedded orchestrator's log tables.
      await connection.execute("pragma synchronous = NORMAL");
      await orm.schema.updateSchema();
      const client = connection.getKnex().client as unknown as KnexClient;
      const reader = new client.driver(options.file, { readonly: true, fileMustExist: true });
      return new Database(orm, options, client, reader);
    } catch (err) {
      await orm?.close(true).catch(() => undefined);
      // Whatever failed here (folder not writable, not a database, disk full), the file is the problem.
      throw new TauError("TAU_E_STORE_FAILED", `Cannot open the database ${options.file}: ${errorMessage(err)}`, {
        home: options.home,
        file: options.file,
        operation: "open",
      });
    }
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
   * Runs synchronous work on the writer connection, holding it (and so excluding ORM transactions) for the
   * duration. `fn` must not await: better-sqlite3 is synchronous and the connection is released after it.
   */
  async write<T>(operation: string, fn: (connection: SqliteConnection) => T): Promise<T> {
    const connection = await this.client.acquireConnection();
    try {
      return fn(connection);
    } catch (err) {
      throw this.convert(err, operation);
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

  /** Runs a synchronous read on the read-only connection: committed data, no waiting for the writer. */
  read<T>(operation: string, fn: (connection: SqliteConnection) => T): T {
    try {
      return fn(this.reader);
    } catch (err) {
      throw this.convert(err, operation);
    }
  }

  /** Converts any error raised by the ORM or by better-sqlite3 into a Tau error. */
  convert(err: unknown, operation: string): TauError {
    const converted = isSqliteError(err) ? this.orm.em.getDriver().convertException(err) : err;
    return storeErrorToTau(converted, { home: this.options.home, operation });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
    await this.orm.close(true);
  }
}

function isSqliteError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && err.name === "SqliteError";
}

/**
 * Prepares a set of statements once per connection (better-sqlite3 statements belong to the connection
 * that prepared them; the pool could in principle hand out a new one).
 */
export function statementCache<T>(prepare: (connection: SqliteConnection) => T): (connection: SqliteConnection) => T {
  const cache = new WeakMap<SqliteConnection, T>();
  return (connection) => {
    let statements = cache.get(connection);
    if (!statements) {
      statements = prepare(connection);
      cache.set(connection, statements);
    }
    return statements;
  };
}
