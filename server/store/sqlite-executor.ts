/**
 * The seam's SQLite side: better-sqlite3 is synchronous, so each call runs at once and the promise it
 * returns is already settled — the executor only gives it the shape the PostgreSQL side needs. Statements
 * are prepared once per connection (a better-sqlite3 statement belongs to the connection that prepared it).
 */
import type { Sql, SqlExecutor, SqlStep } from "./sql";

/** The part of better-sqlite3's API the store uses (the package ships no types). */
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

export interface SqliteStatement {
  /** True when the statement returns rows (a select, or `returning`). */
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

const executors = new WeakMap<SqliteConnection, SqliteExecutor>();

export class SqliteExecutor implements SqlExecutor {
  readonly dialect = "sqlite" as const;
  private readonly prepared = new Map<Sql, { statement: SqliteStatement; reader: boolean }>();

  private constructor(private readonly connection: SqliteConnection) {}

  /** The executor of a connection (one per connection, so its prepared statements are kept). */
  static of(connection: SqliteConnection): SqliteExecutor {
    let executor = executors.get(connection);
    if (!executor) {
      executor = new SqliteExecutor(connection);
      executors.set(connection, executor);
    }
    return executor;
  }

  all<T>(statement: Sql, ...params: unknown[]): Promise<T[]> {
    try {
      return Promise.resolve(this.prepare(statement).statement.all(...params) as T[]);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  get<T>(statement: Sql, ...params: unknown[]): Promise<T | undefined> {
    try {
      return Promise.resolve(this.prepare(statement).statement.get(...params) as T | undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  run(statement: Sql, ...params: unknown[]): Promise<number> {
    try {
      return Promise.resolve(this.prepare(statement).statement.run(...params).changes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  script(steps: readonly SqlStep[]): Promise<unknown[][]> {
    try {
      return Promise.resolve(
        steps.map(({ statement, params }) => {
          const prepared = this.prepare(statement);
          if (prepared.reader) return prepared.statement.all(...params);
          const info = prepared.statement.run(...params);
          return statement.returnsKey === undefined ? [] : [{ [statement.returnsKey]: Number(info.lastInsertRowid) }];
        }),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Runs `fn` in one transaction on this connection (the caller holds the connection throughout). */
  async transaction<T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    this.prepare(BEGIN).statement.run();
    let result: T;
    try {
      result = await fn(this);
    } catch (err) {
      this.prepare(ROLLBACK).statement.run();
      throw err;
    }
    this.prepare(COMMIT).statement.run();
    return result;
  }

  private prepare(statement: Sql): { statement: SqliteStatement; reader: boolean } {
    let prepared = this.prepared.get(statement);
    if (!prepared) {
      const compiled = this.connection.prepare(statement.text);
      // `reader` is a native accessor: read it once, not per execution.
      prepared = { statement: compiled, reader: compiled.reader };
      this.prepared.set(statement, prepared);
    }
    return prepared;
  }
}

// Plain statements instead of better-sqlite3's transaction(): that one takes only a synchronous function.
const BEGIN = { text: "begin" } as Sql;
const COMMIT = { text: "commit" } as Sql;
const ROLLBACK = { text: "rollback" } as Sql;
