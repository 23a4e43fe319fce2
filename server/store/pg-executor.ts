/**
 * The seam's PostgreSQL side: the store's own pg pool (pg 8.20.0, the version @mikro-orm/postgresql pins),
 * next to the ORM's. Its own pool because the hot path wants values as the SQLite side gives them: int8
 * (ms timestamps, seq, count(*)) as numbers, JSON columns as their text — set per pool, not globally on the
 * pg module the ORM shares. Statements are named, so each connection parses and plans one once.
 */
import { createHash } from "node:crypto";
import { escapeLiteral, Pool, types, type PoolClient, type PoolConfig, type QueryResult } from "pg";
import type { Sql, SqlExecutor, SqlStep } from "./sql";

const INT8 = 20;
const JSON_OID = 114;
const JSONB = 3802;

/** int8 → number: every int8 the store keeps (ms since epoch, seq, row counts) stays far below 2^53. */
const typeParsers: PoolConfig["types"] = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === INT8) return (text: string) => Number(text);
    if (oid === JSON_OID || oid === JSONB) return (text: string) => text;
    return types.getTypeParser(oid, format as "text");
  }) as typeof types.getTypeParser,
};

export function createPgPool(connectionString: string, max: number): Pool {
  return new Pool({ connectionString, max, types: typeParsers, application_name: "taud" });
}

type Queryable = Pick<Pool | PoolClient, "query">;

export class PgExecutor implements SqlExecutor {
  readonly dialect = "postgresql" as const;

  constructor(private readonly target: Queryable) {}

  async all<T>(statement: Sql, ...params: unknown[]): Promise<T[]> {
    return (await this.query(statement, params)).rows as T[];
  }

  async get<T>(statement: Sql, ...params: unknown[]): Promise<T | undefined> {
    return (await this.query(statement, params)).rows[0] as T | undefined;
  }

  async run(statement: Sql, ...params: unknown[]): Promise<number> {
    return (await this.query(statement, params)).rowCount ?? 0;
  }

  /**
   * One round trip: the statements go as one simple-protocol query with their parameters inlined as literals
   * (pg's own escapeLiteral). Extended-protocol queries cannot be pipelined by pg 8, and the hot path's
   * state changes are 2–3 statements each; a round trip per statement halved the ledger's throughput.
   */
  async script(steps: readonly SqlStep[]): Promise<unknown[][]> {
    if (steps.length === 0) return [];
    if (steps.length === 1) return [(await this.query(steps[0]!.statement, [...steps[0]!.params])).rows];
    const text = steps.map((s) => s.statement.inlinePg(s.params, literal)).join(";\n");
    const result = (await this.target.query(text)) as QueryResult | QueryResult[];
    return (Array.isArray(result) ? result : [result]).map((r) => r.rows);
  }

  private query(statement: Sql, values: unknown[]): Promise<QueryResult> {
    const text = statement.textFor("postgresql");
    return this.target.query({ name: statementName(text), text, values });
  }
}

/** Runs `fn` in one transaction on a connection of `pool`, held throughout. */
export async function pgTransaction<T>(pool: Pool, fn: (executor: SqlExecutor) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("begin");
    try {
      const result = await fn(new PgExecutor(client));
      await client.query("commit");
      return result;
    } catch (err) {
      await client.query("rollback").catch(() => {
        broken = true;
      });
      throw err;
    }
  } finally {
    // A connection whose rollback failed is in an unknown state: drop it instead of pooling it.
    client.release(broken);
  }
}

/** A parameter as an SQL literal. Only the types the store binds; anything else is a bug, not data. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return escapeLiteral(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot store the number ${value}`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  throw new TypeError(`cannot inline a ${typeof value} parameter`);
}

const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `tau_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}
