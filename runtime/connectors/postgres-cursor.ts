/**
 * Reading query results with memory held flat.
 *
 *   - `runCappedExtract`: `extract` lets the server stream the whole result (as plain pg does, so the server
 *     produces rows while the host converts them), writes each row straight from the wire's text values into
 *     JSON text, and at the row or byte cap stops building and cancels the statement — a huge result never
 *     builds up on the host.
 *   - `PgCursor`: `stream()` and host-side copies. A server-side cursor (`DECLARE … CURSOR` in a transaction,
 *     `FETCH FORWARD n`) on a connection of its own, so the handle stays usable while a stream is open and a
 *     handle can copy from itself (`db.load(db.query(…), …)`).
 */
import { Query, type Client } from "pg";
import { TauError } from "../../server/contract";
import { cancelPgQuery, connectPg, type CheckedPgTarget } from "./postgres-connection";
import { convertPgError } from "./postgres-errors";
import { jsonCellFor, type JsonCell } from "./postgres-values";
import { RawJson, type RowCursor } from "./types";

type Row = Record<string, unknown>;

const queryProto = Query.prototype as unknown as {
  handleRowDescription(msg: unknown): void;
  handleCommandComplete(msg: unknown, connection: unknown): void;
};

interface RowDescription {
  fields: { name: string; dataTypeID: number; format?: string }[];
}

/** Rows joined into one piece of the answer at a time. */
const PIECE_ROWS = 10_000;

/**
 * A pg Query that writes each row straight from the wire's text values into JSON text — no row objects are
 * built and then serialised again — and calls `onOverflow` once past the row or byte cap.
 */
class CappedQuery extends Query {
  readonly parts: string[] = [];
  rowsRead = 0;
  bytes = 2;
  overflow: TauError | null = null;
  private piece: string[] = [];
  private prefixes: string[] = [];
  private cells: JsonCell[] = [];

  constructor(
    text: string,
    values: unknown[],
    private readonly maxRows: number,
    private readonly maxBytes: number,
    private readonly onOverflow: () => void,
    callback: (err: Error | null) => void,
  ) {
    super({ text, values } as never, undefined as never, callback as never);
  }

  handleRowDescription(msg: RowDescription): void {
    queryProto.handleRowDescription.call(this, msg);
    // Column names as JSON keys; a repeated name keeps the last value, as row objects would.
    this.prefixes = msg.fields.map((f, i) => `${i === 0 ? "{" : ","}${JSON.stringify(f.name)}:`);
    this.cells = msg.fields.map((f) => jsonCellFor(f.dataTypeID));
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.overflow) return;
    const fields = msg.fields;
    const prefixes = this.prefixes;
    const cells = this.cells;
    let row = fields.length === 0 ? "{" : "";
    for (let i = 0; i < fields.length; i++) {
      const v = fields[i];
      row += prefixes[i] + (v === null ? "null" : cells[i](v));
    }
    this.piece.push(`${row}}`);
    if (++this.rowsRead > this.maxRows) {
      this.stop(new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `The query returns more than ${this.maxRows} rows, the most one extract may return.`, {
        limitRows: this.maxRows,
      }));
    } else if (this.piece.length >= PIECE_ROWS) this.flushPiece();
  }

  handleCommandComplete(msg: unknown, connection: unknown): void {
    this.flushPiece();
    queryProto.handleCommandComplete.call(this, msg, connection);
  }

  private flushPiece(): void {
    if (this.piece.length === 0 || this.overflow) return;
    const text = this.piece.join(",");
    this.piece = [];
    this.bytes += text.length + 1;
    if (this.bytes > this.maxBytes) {
      this.stop(new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The extract's rows are larger than ${this.maxBytes} bytes.`, {
        limitBytes: this.maxBytes,
        rowsRead: this.rowsRead,
      }));
      return;
    }
    this.parts.push(text);
  }

  private stop(err: TauError): void {
    this.overflow = err;
    this.piece = [];
    this.parts.length = 0;
    this.onOverflow();
  }
}

/**
 * Runs `sql` and returns its rows as JSON text, capped by rows and bytes. Past a cap the statement is
 * cancelled, and the answer waits until the cancel request was delivered, so it cannot hit a later statement.
 * Rejects with pg's error or a TauError.
 */
export function runCappedExtract(
  client: Client,
  target: CheckedPgTarget,
  sql: string,
  params: unknown[],
  maxRows: number,
  maxBytes: number,
): Promise<RawJson> {
  return new Promise<RawJson>((resolve, reject) => {
    let cancelling: Promise<void> | null = null;
    const query: CappedQuery = new CappedQuery(
      sql,
      params,
      maxRows,
      maxBytes,
      () => {
        cancelling = cancelPgQuery(client, target);
      },
      (err) => {
        const settle = (): void => {
          if (query.overflow) reject(query.overflow);
          else if (err) reject(err);
          else resolve(new RawJson(`[${query.parts.join(",")}]`));
        };
        if (cancelling) void (cancelling as Promise<void>).then(settle);
        else settle();
      },
    );
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
  private ahead: Promise<Row[]> | null = null;

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

  /**
   * The next batch. The FETCH for the batch after it is sent at once, so the server and the network work
   * while the caller handles this one (two batches at most are in memory).
   */
  async next(): Promise<Row[] | null> {
    if (this.done && this.ahead === null) return null;
    if (this.closed && this.ahead === null) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The cursor was closed.");
    const pending = this.ahead ?? this.fetch();
    this.ahead = null;
    const rows = await pending;
    if (rows.length < this.batchSize) {
      this.done = true;
      // Release the server's resources as soon as the result is exhausted, not when the caller gets around to it.
      void this.close();
    } else if (!this.closed) {
      this.ahead = this.fetch();
      this.ahead.catch(() => undefined); // surfaced by the next call
    }
    return rows.length === 0 ? null : rows;
  }

  private async fetch(): Promise<Row[]> {
    try {
      return (await this.client.query(`FETCH FORWARD ${this.batchSize} FROM ${CURSOR_NAME}`)).rows as Row[];
    } catch (err) {
      throw convertPgError(err, { sql: this.sql });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    const ahead = this.ahead;
    this.ahead = null;
    await ahead?.catch(() => undefined);
    try {
      await this.client.query("COMMIT");
    } catch {
      // the connection may already be gone
    }
    await this.client.end().catch(() => undefined);
  }
}
