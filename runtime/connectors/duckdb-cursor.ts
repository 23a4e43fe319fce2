/**
 * A cursor over a DuckDB query for `stream()` and host-side copies: DuckDB's streaming result on a connection
 * of its own (a new query on the handle's connection would invalidate it), read chunk by chunk, so the host
 * holds at most one batch (plus one chunk) whatever the result's size.
 */
import type { DuckDBConnection, DuckDBResult, DuckDBValue } from "@duckdb/node-api";
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
): Promise<RowCursor> {
  let result: DuckDBResult;
  try {
    result = await connection.stream(sql, params);
  } catch (err) {
    closeQuietly(connection);
    throw convertDuckDbError(err, { sql });
  }
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  let buffered: Row[] = [];
  let exhausted = false;
  let closed = false;

  return {
    async next(): Promise<Row[] | null> {
      if (closed) return null;
      try {
        while (buffered.length < batchSize && !exhausted) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) exhausted = true;
          else buffered = buffered.length === 0 ? chunkToObjects(chunk, names, types) : buffered.concat(chunkToObjects(chunk, names, types));
        }
      } catch (err) {
        throw convertDuckDbError(err, { sql });
      }
      if (buffered.length === 0) return null;
      if (buffered.length <= batchSize) {
        const batch = buffered;
        buffered = [];
        return batch;
      }
      const batch = buffered.slice(0, batchSize);
      buffered = buffered.slice(batchSize);
      return batch;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      buffered = [];
      try {
        connection.interrupt();
      } catch {
        // nothing in flight
      }
      closeQuietly(connection);
    },
  };
}

function closeQuietly(connection: DuckDBConnection): void {
  try {
    connection.closeSync();
  } catch {
    // already closed (the lease closes every connection it handed out)
  }
}
