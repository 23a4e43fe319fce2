/**
 * `redshift`: Amazon Redshift through pg 8.20 (Redshift speaks the PostgreSQL wire protocol; default port
 * 5439). The same handle as `postgres` (postgres.ts) with Redshift's SQL (postgres-sql.ts REDSHIFT_DIALECT)
 * and another bulk path: Redshift has no `COPY … FROM STDIN` (its COPY reads from S3), so `load` writes
 * multi-row `INSERT … VALUES` statements with bind parameters, each sized by parameter count and bytes.
 * For very large loads the Redshift way is COPY from S3: write the rows with the s3 connector, then
 * `execute("COPY … FROM 's3://…' IAM_ROLE …")`.
 */
import { checkPgTarget, connectPg, parsePgOptions } from "./postgres-connection";
import { PgConnector } from "./postgres";
import type { RowWriter } from "./postgres-load";
import { REDSHIFT_DIALECT, insertValuesSql } from "./postgres-sql";
import { paramValue } from "./postgres-values";
import type { ConnectorContext, ConnectorDriver, HostConnector } from "./types";

export const REDSHIFT_KIND = "redshift";

/** Bind parameters per INSERT (the protocol allows 65535; Redshift documents no lower limit). */
export const REDSHIFT_MAX_PARAMS = 32_000;
/** Parameter bytes per INSERT (Redshift caps a statement at 16 MB; stay well below it). */
export const REDSHIFT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

export class RedshiftDriver implements ConnectorDriver {
  readonly kind = REDSHIFT_KIND;

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const target = await checkPgTarget(parsePgOptions(REDSHIFT_KIND, options, 5439), ctx.policy);
    const client = await connectPg(target);
    return new PgConnector(REDSHIFT_KIND, target, client, ctx, REDSHIFT_DIALECT, insertWriter);
  }
}

function approxBytes(v: string | number | boolean | null): number {
  return typeof v === "string" ? v.length + 4 : 12;
}

/** Multi-row INSERT batches with bind parameters, sized by parameter count and bytes. */
export const insertWriter: RowWriter = {
  async write(client, target, columns, keys, batches, withSeq, jsonColumns): Promise<number> {
    const width = columns.length + (withSeq ? 1 : 0);
    if (width === 0) return 0;
    const maxRows = Math.max(1, Math.floor(REDSHIFT_MAX_PARAMS / width));
    const sqlCache = new Map<number, string>();
    const sqlFor = (rows: number): string => {
      let sql = sqlCache.get(rows);
      if (sql === undefined) {
        sql = insertValuesSql(target, columns, jsonColumns, rows, withSeq);
        if (sqlCache.size < 4) sqlCache.set(rows, sql);
      }
      return sql;
    };
    let count = 0;
    let values: (string | number | boolean | null)[] = [];
    let rowsInStatement = 0;
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (rowsInStatement === 0) return;
      const sql = sqlFor(rowsInStatement);
      try {
        await client.query(sql, values);
      } catch (err) {
        if (err && typeof err === "object") (err as { tauSql?: string }).tauSql = sql.slice(0, 300);
        throw err;
      }
      values = [];
      rowsInStatement = 0;
      bytes = 0;
    };
    for await (const batch of batches) {
      for (const row of batch) {
        if (withSeq) values.push(count + 1);
        for (const key of keys) {
          const v = paramValue(row[key]);
          bytes += approxBytes(v);
          values.push(v);
        }
        count++;
        rowsInStatement++;
        if (rowsInStatement >= maxRows || bytes >= REDSHIFT_MAX_BATCH_BYTES) await flush();
      }
    }
    await flush();
    return count;
  },
};
