/**
 * A cursor over a DuckDB query for `stream()` and host-side copies: DuckDB's streaming result on a connection
 * of its own (a new query on the handle's connection would invalidate it), read chunk by chunk, so the host
 * holds at most one batch (plus one chunk) whatever the result's size.
 *
 * Two ways to read it, never mixed: `next()` gives batches of row objects (any target); `nextChunk()` gives
 * DuckDB's own data chunks, for a copy into another DuckDB database (duckdb-copy.ts) that never turns the
 * values into JS at all.
 */
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBType, DuckDBValue } from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { convertDuckDbError } from "./duckdb-errors";
import { chunkToObjects, type JsonValue } from "./duckdb-values";
import type { RowCursor } from "./types";

type Row = Record<string, JsonValue>;

/** Runs `sql` on `connection` (which the cursor then owns and closes) and returns a cursor of `batchSize` rows. */
export async function openDuckDbCursor(
  connection: DuckDBConnection,
  sql: string,
  params: DuckDBValue[] | Record<string, DuckDBValue> | undefined,
  batchSize: number,
): Promise<DuckDbCursor> {
  let result: DuckDBResult;
  try {
    result = await connection.stream(sql, params);
  } catch (err) {
    closeQuietly(connection);
    throw convertDuckDbError(err, { sql });
  }
  return new DuckDbCursor(connection, result, sql, batchSize);
}

export class DuckDbCursor implements RowCursor {
  /** The result's column names, made unique ("a", "a:1") as the rows' keys are. */
  readonly names: readonly string[];
  /** The result's column types, with their aliases (JSON). */
  readonly types: readonly DuckDBType[];
  private buffered: Row[] = [];
  private exhausted = false;
  private closed = false;
  /** The fetch in flight, which close waits for before closing the connection under it. */
  private fetching: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly result: DuckDBResult,
    private readonly sql: string,
    private readonly batchSize: number,
  ) {
    this.names = result.deduplicatedColumnNames();
    this.types = result.columnTypes();
  }

  async next(): Promise<Row[] | null> {
    if (this.closed) return null;
    try {
      while (this.buffered.length < this.batchSize && !this.exhausted) {
        const chunk = await this.fetch();
        if (!chunk || chunk.rowCount === 0) this.exhausted = true;
        else {
          const rows = chunkToObjects(chunk, this.names, this.types);
          this.buffered = this.buffered.length === 0 ? rows : this.buffered.concat(rows);
        }
      }
    } catch (err) {
      throw convertDuckDbError(err, { sql: this.sql });
    }
    if (this.buffered.length === 0) return null;
    if (this.buffered.length <= this.batchSize) {
      const batch = this.buffered;
      this.buffered = [];
      return batch;
    }
    const batch = this.buffered.slice(0, this.batchSize);
    this.buffered = this.buffered.slice(this.batchSize);
    return batch;
  }

  /**
   * The next chunk of the result as DuckDB holds it, or null at the end. A cursor closed under the reader
   * (its connector closed, the run ended) is TAU_E_CONNECTOR_CLOSED: a copy must fail, not end early.
   */
  async nextChunk(): Promise<DuckDBDataChunk | null> {
    if (this.closed) throw closedDuringCopy();
    if (this.exhausted) return null;
    let chunk: DuckDBDataChunk | null;
    try {
      chunk = await this.fetch();
    } catch (err) {
      if (this.closed) throw closedDuringCopy();
      throw convertDuckDbError(err, { sql: this.sql });
    }
    if (this.closed) throw closedDuringCopy();
    if (!chunk || chunk.rowCount === 0) {
      this.exhausted = true;
      return null;
    }
    return chunk;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffered = [];
    try {
      this.connection.interrupt();
    } catch {
      // nothing in flight
    }
    await this.fetching.catch(() => undefined);
    closeQuietly(this.connection);
  }

  private fetch(): Promise<DuckDBDataChunk | null> {
    const p = this.result.fetchChunk();
    this.fetching = p;
    return p;
  }
}

function closedDuringCopy(): TauError {
  return new TauError("TAU_E_CONNECTOR_CLOSED", "The query's connector was closed during the copy; nothing was loaded.");
}

function closeQuietly(connection: DuckDBConnection): void {
  try {
    connection.closeSync();
  } catch {
    // already closed (the lease closes every connection it handed out)
  }
}
