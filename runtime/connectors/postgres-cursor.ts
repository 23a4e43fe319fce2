/**
 * Reading query results with memory held flat.
 *
 *   - `runCappedExtract`: `extract` reads the result in pages through the extended protocol (a portal
 *     executed `pageRows` rows at a time), serialises each page to JSON as it arrives and stops at the row or
 *     byte cap — the server is told to drop the rest (Sync), so a huge result never builds up on the host.
 *   - `PgCursor`: `stream()` and host-side copies. A server-side cursor (`DECLARE … CURSOR` in a transaction,
 *     `FETCH FORWARD n`) on a connection of its own, so the handle stays usable while a stream is open and a
 *     handle can copy from itself (`db.load(db.query(…), …)`).
 */
import { Query, type Client } from "pg";
import { TauError } from "../../server/contract";
import { connectPg, type CheckedPgTarget } from "./postgres-connection";
import { convertPgError } from "./postgres-errors";
import { RawJson, type RowCursor } from "./types";

type Row = Record<string, unknown>;

interface PgConnectionLike {
  sync(): void;
}

interface QueryInternals {
  _result: { rows: Row[] };
}

const queryProto = Query.prototype as unknown as {
  handlePortalSuspended(connection: PgConnectionLike): void;
  handleCommandComplete(msg: unknown, connection: PgConnectionLike): void;
  handleError(err: unknown, connection: PgConnectionLike): void;
};

/** A pg Query that serialises its rows page by page and stops past a row or byte cap. */
class CappedQuery extends Query {
  readonly parts: string[] = [];
  rowsRead = 0;
  bytes = 2;
  overflow: TauError | null = null;
  private synced = false;

  constructor(
    text: string,
    values: unknown[],
    pageRows: number,
    private readonly maxRows: number,
    private readonly maxBytes: number,
    callback: (err: Error | null) => void,
  ) {
    super({ text, values, rows: pageRows } as never, undefined as never, callback as never);
  }

  private flushPage(): void {
    const result = (this as unknown as QueryInternals)._result;
    const page = result.rows;
    if (page.length === 0 || this.overflow) {
      result.rows = [];
      return;
    }
    result.rows = [];
    this.rowsRead += page.length;
    if (this.rowsRead > this.maxRows) {
      this.overflow = new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `The query returns more than ${this.maxRows} rows, the most one extract may return.`, {
        limitRows: this.maxRows,
      });
      return;
    }
    const text = JSON.stringify(page);
    this.bytes += text.length - 1;
    if (this.bytes > this.maxBytes) {
      this.overflow = new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The extract's rows are larger than ${this.maxBytes} bytes.`, {
        limitBytes: this.maxBytes,
        rowsRead: this.rowsRead,
      });
      return;
    }
    if (text.length > 2) this.parts.push(text.slice(1, -1));
  }

  handlePortalSuspended(connection: PgConnectionLike): void {
    this.flushPage();
    // Past the cap: end the portal instead of asking for the next page; the server drops the rest.
    if (this.overflow) {
      this.synced = true;
      connection.sync();
    } else queryProto.handlePortalSuspended.call(this, connection);
  }

  handleCommandComplete(msg: unknown, connection: PgConnectionLike): void {
    this.flushPage();
    this.synced = true; // pg sends Sync after CommandComplete in paged mode
    queryProto.handleCommandComplete.call(this, msg, connection);
  }

  handleError(err: unknown, connection: PgConnectionLike): void {
    // In paged mode pg pipelines no Sync: without one the server never answers ReadyForQuery after an error
    // and the connection hangs (pg-cursor does the same).
    if (!this.synced) {
      this.synced = true;
      connection.sync();
    }
    queryProto.handleError.call(this, err, connection);
  }
}

/** Runs `sql` and returns its rows as JSON text, capped by rows and bytes. Rejects with pg's error or a TauError. */
export function runCappedExtract(client: Client, sql: string, params: unknown[], maxRows: number, maxBytes: number): Promise<RawJson> {
  return new Promise<RawJson>((resolve, reject) => {
    const pageRows = Math.max(1, Math.min(maxRows + 1, 20_000));
    const query: CappedQuery = new CappedQuery(sql, params, pageRows, maxRows, maxBytes, (err) => {
      if (err) return reject(err);
      if (query.overflow) return reject(query.overflow);
      resolve(new RawJson(`[${query.parts.join(",")}]`));
    });
    client.query(query as never);
  });
}

const CURSOR_NAME = '"__tau_cursor"';

/** Removes trailing semicolons (DECLARE … FOR takes one statement without its terminator). */
export function stripTerminator(sql: string): string {
  return sql.replace(/[\s;]+$/, "");
}

/** A server-side cursor on its own connection. `next()` fetches one batch; `close()` ends the connection. */
export class PgCursor implements RowCursor {
  private done = false;
  private closed = false;

  private constructor(
    private readonly client: Client,
    private readonly batchSize: number,
    private readonly sql: string,
  ) {}

  static async open(target: CheckedPgTarget, sql: string, params: unknown[], batchSize: number): Promise<PgCursor> {
    const client = await connectPg(target);
    try {
      await client.query("BEGIN");
      await client.query({ text: `DECLARE ${CURSOR_NAME} CURSOR FOR ${stripTerminator(sql)}`, values: params });
    } catch (err) {
      client.end().catch(() => undefined);
      throw convertPgError(err, { sql });
    }
    return new PgCursor(client, Math.max(1, Math.min(Math.floor(batchSize) || 1, 1_000_000)), sql);
  }

  async next(): Promise<Row[] | null> {
    if (this.done) return null;
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The cursor was closed.");
    let rows: Row[];
    try {
      rows = (await this.client.query(`FETCH FORWARD ${this.batchSize} FROM ${CURSOR_NAME}`)).rows as Row[];
    } catch (err) {
      throw convertPgError(err, { sql: this.sql });
    }
    if (rows.length < this.batchSize) {
      this.done = true;
      // Release the server's resources as soon as the result is exhausted, not when the caller gets around to it.
      void this.close();
    }
    return rows.length === 0 ? null : rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    try {
      await this.client.query("COMMIT");
    } catch {
      // the connection may already be gone
    }
    await this.client.end().catch(() => undefined);
  }
}
