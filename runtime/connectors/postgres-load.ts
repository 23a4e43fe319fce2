/**
 * `load` for PostgreSQL and Redshift: one transaction per load, so a failed load leaves the target as it was.
 *
 *   BEGIN
 *   describe the target (information_schema) → CREATE SCHEMA/TABLE from the rows' inferred types (the upsert's
 *   mergeKey becomes the PRIMARY KEY), or ALTER TABLE ADD COLUMN for fields the table lacks, and check every
 *   value against the existing column types (rows.ts: a conflict names the column; nothing is written)
 *   append  → write the rows into the table
 *   replace → empty the table (dialect: TRUNCATE on PostgreSQL, DELETE on Redshift), then write
 *   upsert  → write into a temporary staging table with a running number, then merge (last row per key wins)
 *   COMMIT
 *
 * "Write" is the dialect's bulk path (`RowWriter`): `COPY … FROM STDIN` in text format on PostgreSQL
 * (`copyWriter`, streamed with backpressure), multi-row INSERT batches on Redshift.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { TauError } from "../../server/contract";
import { convertPgError } from "./postgres-errors";
import {
  DESCRIBE_TABLE_SQL,
  SEQ_COLUMN,
  quoteIdent,
  typeNameOf,
  type DescribedColumnRow,
  type PgDialect,
  type PgTableName,
} from "./postgres-sql";
import { CopyBuffer, copyEncoder } from "./postgres-values";
import {
  ColumnInference,
  checkMergeKey,
  findColumn,
  findTypeConflict,
  logicalTypeOf,
  newColumns,
  type InferredColumn,
  type TargetColumn,
} from "./rows";
import type { LoadRequest, RowSource } from "./types";

type Row = Record<string, unknown>;

/** How a dialect writes rows in bulk into a table (or the staging table) inside the load's transaction. */
export interface RowWriter {
  /**
   * Writes every batch into `target` (quoted SQL name). `columns` are the table's column names, `keys` the
   * rows' keys for them (same order). With `withSeq` a running number goes into SEQ_COLUMN first.
   * `jsonColumns`: table columns that hold JSON (Redshift's SUPER needs JSON_PARSE). Returns rows written.
   */
  write(client: Client, target: string, columns: string[], keys: string[], batches: AsyncIterable<Row[]>, withSeq: boolean, jsonColumns: ReadonlySet<string>): Promise<number>;
}

/** Rows per encoded COPY chunk: large enough to keep syscalls and promise turns rare, small enough to stream. */
const COPY_CHUNK_ROWS = 2000;
/** Bytes per chunk written to the COPY stream. */
const COPY_CHUNK_BYTES = 256 * 1024;
/** Encoded chunks prepared ahead of the socket, and bytes the COPY stream buffers before it pushes back. */
const COPY_READ_AHEAD = 8;
const COPY_BUFFER_BYTES = 1 << 20;

/** PostgreSQL's bulk path: one `COPY … FROM STDIN` (text format) fed chunk by chunk with backpressure. */
export const copyWriter: RowWriter = {
  async write(client, target, columns, keys, batches, withSeq): Promise<number> {
    const names = withSeq ? [SEQ_COLUMN, ...columns] : columns;
    const sql = `COPY ${target} (${names.map(quoteIdent).join(", ")}) FROM STDIN`;
    let count = 0;
    const encoder = copyEncoder(keys, withSeq);
    const out = new CopyBuffer(COPY_CHUNK_BYTES * 2);
    async function* encode(): AsyncGenerator<Buffer> {
      for await (const batch of batches) {
        for (let i = 0; i < batch.length; i += COPY_CHUNK_ROWS) {
          const end = Math.min(batch.length, i + COPY_CHUNK_ROWS);
          encoder(out, batch, i, end, count + 1);
          count += end - i;
          if (out.length >= COPY_CHUNK_BYTES) yield out.take();
        }
      }
      if (out.length > 0) yield out.take();
    }
    const stream = client.query(copyFrom(sql, { highWaterMark: COPY_BUFFER_BYTES }));
    try {
      // The readable keeps up to COPY_READ_AHEAD encoded chunks ready, so encoding overlaps with the server
      // ingesting the previous chunks; the socket's backpressure bounds the total held in memory.
      await pipeline(Readable.from(encode(), { objectMode: true, highWaterMark: COPY_READ_AHEAD }), stream);
    } catch (err) {
      throw withSql(err, sql);
    }
    return count;
  },
};

function withSql(err: unknown, sql: string): unknown {
  if (err && typeof err === "object" && !(err instanceof TauError)) (err as { tauSql?: string }).tauSql ??= sql;
  return err;
}

async function firstNonEmpty(it: AsyncIterator<Row[]>): Promise<Row[] | null> {
  for (;;) {
    const r = await it.next();
    if (r.done) return null;
    if (r.value.length > 0) return r.value;
  }
}

let stageCounter = 0;

export interface LoadContext {
  client: Client;
  dialect: PgDialect;
  writer: RowWriter;
}

/** Reads the target's columns inside the load's transaction; empty when the table does not exist. */
export async function describeTable(client: Client, table: PgTableName): Promise<(TargetColumn & { nullable: boolean })[]> {
  const r = await client.query<DescribedColumnRow>(DESCRIBE_TABLE_SQL, [table.schema, table.name]);
  return r.rows.map((row) => {
    const sqlType = typeNameOf(row);
    return { name: row.column_name, sqlType, type: logicalTypeOf(sqlType), nullable: row.is_nullable !== "NO" };
  });
}

/** Loads `source` into `table` in one transaction (see the file comment). Resolves with the rows loaded. */
export async function loadRows(ctx: LoadContext, table: PgTableName, source: RowSource, request: LoadRequest): Promise<number> {
  const { client, dialect, writer } = ctx;
  const it = source[Symbol.asyncIterator]();
  let sql = "";
  const run = async (statement: string): Promise<void> => {
    sql = statement;
    await client.query(statement);
  };
  let inTransaction = false;
  try {
    const first = await firstNonEmpty(it);
    const inferred = first ? new ColumnInference().observe(first).columns() : [];
    if (first) checkMergeKey(request, inferred);
    await run("BEGIN");
    inTransaction = true;
    sql = DESCRIBE_TABLE_SQL;
    const existing = await describeTable(client, table);
    if (!first) {
      // No rows: append and upsert change nothing; replace empties an existing table.
      if (request.mode === "replace" && existing.length > 0) await run(dialect.clearTable(table));
      await run("COMMIT");
      inTransaction = false;
      return 0;
    }
    if (existing.length === 0) {
      const schema = dialect.createSchema(table);
      if (schema) await run(schema);
      await run(dialect.createTable(table, inferred, request.mode === "upsert" ? request.mergeKey : null));
      for (const c of inferred) existing.push({ name: c.name, sqlType: dialect.types[c.type], type: c.type, nullable: true });
    } else {
      for (const c of newColumns(inferred, existing)) {
        await run(dialect.addColumn(table, c));
        existing.push({ name: c.name, sqlType: dialect.types[c.type], type: c.type, nullable: true });
      }
      const conflict = findTypeConflict(first, inferred, existing, table.text);
      if (conflict) throw conflict;
    }
    const keys = inferred.map((c) => c.name);
    const columns = inferred.map((c) => findColumn(existing, c.name)!.name);
    const jsonColumns = new Set(existing.filter((c) => c.type === "json" && c.sqlType.toUpperCase() === "SUPER").map((c) => c.name));
    const batches = laterBatchesChecked(first, it, inferred, existing, table.text);

    let count: number;
    if (request.mode === "upsert") {
      const key = request.mergeKey!.map((k) => findColumn(existing, k)!.name);
      const stage = `__tau_stage_${process.pid}_${++stageCounter}`;
      await run(dialect.createStage(stage, table, columns));
      sql = `write rows into the staging table ${stage}`;
      count = await writer.write(client, quoteIdent(stage), columns, keys, batches, true, jsonColumns);
      for (const statement of dialect.merge(table, stage, columns, key)) {
        try {
          await run(statement);
        } catch (err) {
          throw noUniqueKey(err, table, key) ?? err;
        }
      }
    } else {
      if (request.mode === "replace") await run(dialect.clearTable(table));
      sql = `write rows into ${table.sql}`;
      count = await writer.write(client, table.sql, columns, keys, batches, false, jsonColumns);
    }
    await run("COMMIT");
    inTransaction = false;
    return count;
  } catch (err) {
    if (inTransaction) await client.query("ROLLBACK").catch(() => undefined);
    // Stop a source cursor we will not read to the end.
    await it.return?.().catch(() => undefined);
    const failedSql = (err as { tauSql?: string } | null)?.tauSql ?? sql;
    throw convertPgError(err, { sql: failedSql, table: table.text, details: { mode: request.mode } });
  }
}

/**
 * The first batch, then the source's later batches, each checked before it is written: a field the first
 * batch did not have is an error (the table's columns were settled from the first batch — cursor sources
 * keep their columns, so only the first row of a later batch is looked at), and values must fit the columns.
 */
async function* laterBatchesChecked(
  first: Row[],
  it: AsyncIterator<Row[]>,
  inferred: InferredColumn[],
  existing: TargetColumn[],
  table: string,
): AsyncGenerator<Row[]> {
  yield first;
  const known = new Set(inferred.map((c) => c.name));
  let offset = first.length;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    const batch = r.value;
    if (batch.length === 0) continue;
    for (const key in batch[0]) {
      if (!known.has(key)) {
        throw new TauError(
          "TAU_E_CONNECTOR_ARGS_INVALID",
          `A later batch of the load has the field '${key}', which the first batch did not have; a streamed load keeps the first batch's columns.`,
          { column: key, table, row: offset },
        );
      }
    }
    const conflict = findTypeConflict(batch, inferred, existing, table, offset);
    if (conflict) throw conflict;
    offset += batch.length;
    yield batch;
  }
}

/** ON CONFLICT needs a unique index on exactly the mergeKey columns: say so, with the statement that adds one. */
function noUniqueKey(err: unknown, table: PgTableName, key: string[]): TauError | null {
  if ((err as { code?: unknown } | null)?.code !== "42P10") return null;
  const cols = key.map(quoteIdent).join(", ");
  return new TauError(
    "TAU_E_CONNECTOR_ARGS_INVALID",
    `Upsert into ${table.text} needs a primary key or unique index on exactly (${key.join(", ")}); the table has none.`,
    { option: "mergeKey", mergeKey: key, table: table.text, sqlState: "42P10" },
    `Add one once, e.g. execute('CREATE UNIQUE INDEX ON ${table.sql.replace(/'/g, "''")} (${cols})'), or load with mode "replace"/"append".`,
  );
}
