/**
 * The dialect seam of the store's raw SQL: one statement text per query (with `?` placeholders), an executor
 * per database that runs it. Repositories write portable SQL against `SqlExecutor` and never see which
 * database is underneath; where the dialects differ (sqlite's two-argument `max` against PostgreSQL's
 * `greatest`), a statement carries its PostgreSQL text alongside.
 *
 * Values that cross the seam are the same on both sides: integers (ms timestamps, counts, seq) as numbers,
 * JSON columns as their text (the repositories parse it), booleans as whatever the driver gives — read them
 * with `bool()`.
 */

export type Dialect = "sqlite" | "postgresql";

/** One SQL statement, prepared lazily per connection by the executor that runs it. */
export class Sql {
  private pg: string | undefined;

  constructor(
    /** The statement with `?` placeholders (sqlite's text). */
    readonly text: string,
    private readonly pgText?: string,
    /** An insert that answers the key the database assigned, as one row `{ [column]: key }`. */
    readonly returnsKey?: string,
  ) {}

  /** The text for `dialect`: PostgreSQL numbers its placeholders (`$1`, `$2`, …). */
  textFor(dialect: Dialect): string {
    if (dialect === "sqlite") return this.text;
    this.pg ??= numberPlaceholders(this.pgText ?? this.text);
    return this.pg;
  }

  /** The PostgreSQL text with each `?` replaced by `literal(param)` (for a multi-statement script). */
  inlinePg(params: readonly unknown[], literal: (value: unknown) => string): string {
    let i = 0;
    const text = (this.pgText ?? this.text).replace(/\?/g, () => literal(params[i++]));
    if (i !== params.length) throw new TypeError(`expected ${i} parameters, got ${params.length}`);
    return text;
  }
}

/** One statement of a script, with its parameters. */
export interface SqlStep {
  statement: Sql;
  params: readonly unknown[];
}

export function step(statement: Sql, ...params: unknown[]): SqlStep {
  return { statement, params };
}

/** A statement; give `pgText` only where PostgreSQL needs other SQL than sqlite. */
export function sql(text: string, pgText?: string): Sql {
  return new Sql(text, pgText);
}

/**
 * An insert that answers the autoincrement key it got, as one row `{ [column]: key }`: `returning column` on
 * PostgreSQL; on sqlite the connection's last insert rowid, which costs nothing where `returning` made each
 * event insert ~1.5 µs slower (measured: 2.7 → 4.2–4.7 µs).
 */
export function insertReturningKey(text: string, column: string): Sql {
  return new Sql(text, `${text} returning ${column}`, column);
}

/** Runs statements on one connection (or, for reads on PostgreSQL, on any connection of the pool). */
export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(statement: Sql, ...params: unknown[]): Promise<T[]>;
  get<T>(statement: Sql, ...params: unknown[]): Promise<T | undefined>;
  /** Runs a statement that returns no rows; resolves with the number of rows it changed. */
  run(statement: Sql, ...params: unknown[]): Promise<number>;
  /**
   * Runs statements in order and answers each one's rows (none for statements without `returning`). On
   * PostgreSQL that is one round trip for all of them; a failing statement stops the script (and, inside a
   * write, fails the transaction).
   */
  script(steps: readonly SqlStep[]): Promise<unknown[][]>;
}

/**
 * Sorts by a text key in byte order, as sqlite's default (BINARY) collation does. PostgreSQL orders text by
 * the database's collation (en_US puts `ab` before `a_z`); listings sorted here read the same on both.
 */
export function byteOrder<T>(rows: T[], key: (row: T) => string): T[] {
  return rows.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** A boolean column as read: sqlite stores 0/1, PostgreSQL answers true/false. */
export function bool(value: unknown): boolean {
  return value === true || value === 1;
}

/** `?` → `$n`. The store's statements hold no `?` inside string literals, so no quoting rules are needed. */
function numberPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
