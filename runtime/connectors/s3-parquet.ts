/**
 * Parquet for `s3`, through DuckDB's own reader and writer (@duckdb/node-api is already a dependency): the
 * object is downloaded to a private temp file and read with `read_parquet`, one result chunk at a time; rows
 * are written as JSON lines to a temp file and turned into Parquet with `COPY … (FORMAT PARQUET)`, with
 * DuckDB inferring the column types. Each call uses its own in-memory DuckDB instance, closed afterwards.
 */
import { writeFile } from "node:fs/promises";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { TauError } from "../../server/contract";
import { chunkToObjects } from "./duckdb-values";
import { writeJsonl, type Row } from "./s3-formats";

function literal(path: string): string {
  return `'${path.replace(/'/g, "''")}'`;
}

async function withDuckDb<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  try {
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

function parquetInvalid(err: unknown, where: string): TauError {
  if (err instanceof TauError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TauError("TAU_E_CONNECTOR_DATA_INVALID", `s3: cannot ${where} Parquet: ${message.slice(0, 300)}`, { kind: "s3", format: "parquet", where });
}

/**
 * Reads a Parquet file as batches of row objects (dates and timestamps as ISO text, as extract returns them).
 *
 * @example
 * ```ts
 * for await (const batch of parquetBatches("/tmp/tau-s3-x/object.parquet", 10_000)) rows.push(...batch);
 * ```
 */
export async function* parquetBatches(file: string, batchSize: number): AsyncGenerator<Row[]> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  let connection: DuckDBConnection | null = null;
  try {
    connection = await instance.connect();
    let result;
    try {
      result = await connection.stream(`SELECT * FROM read_parquet(${literal(file)})`);
    } catch (err) {
      throw parquetInvalid(err, "read");
    }
    const names = result.deduplicatedColumnNames();
    const types = result.columnTypes();
    let pending: Row[] = [];
    for (;;) {
      let chunk;
      try {
        chunk = await result.fetchChunk();
      } catch (err) {
        throw parquetInvalid(err, "read");
      }
      if (!chunk || chunk.rowCount === 0) break;
      for (const row of chunkToObjects(chunk, names, types)) pending.push(row);
      while (pending.length >= batchSize) {
        yield pending.slice(0, batchSize);
        pending = pending.slice(batchSize);
      }
    }
    if (pending.length > 0) yield pending;
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes `rows` to `file` as Parquet (`scratch` is a temp file path for the JSON lines staging).
 *
 * @example
 * ```ts
 * await writeParquet([{ id: 1, at: "2026-01-01T00:00:00Z" }], join(dir, "out.parquet"), join(dir, "rows.jsonl"));
 * ```
 */
export async function writeParquet(rows: readonly Row[], file: string, scratch: string): Promise<void> {
  if (rows.length === 0) {
    throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", "s3: a Parquet object needs at least one row (its columns and types come from the rows).", { kind: "s3", format: "parquet" });
  }
  await writeFile(scratch, writeJsonl(rows));
  await withDuckDb(async (connection) => {
    try {
      await connection.run(
        `COPY (SELECT * FROM read_json(${literal(scratch)}, format = 'newline_delimited', sample_size = -1)) TO ${literal(file)} (FORMAT PARQUET)`,
      );
    } catch (err) {
      throw parquetInvalid(err, "write");
    }
  });
}
