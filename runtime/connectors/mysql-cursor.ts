/**
 * A mysql cursor: the rows of one query, batch by batch, with memory held flat (see MysqlCursor).
 */
import type { RowCursor } from "./types";
import type { CoreConnection } from "./mysql-connection";
import { convertMysqlError, isFatalMysqlError } from "./mysql-errors";
import { rowConverter } from "./mysql-values";

/**
 * Rows of one query, batch by batch: mysql2's row events fill a buffer; the connection is paused when a
 * batch is full and resumed when the next one is asked for, so the host holds about one batch.
 */
export class MysqlCursor implements RowCursor {
  private readonly buffer: Record<string, unknown>[] = [];
  private error: unknown = null;
  private done = false;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly core: CoreConnection,
    sqlText: string,
    private readonly batchSize: number,
    private readonly sqlForErrors: string,
    private readonly onClose: (() => Promise<void>) | null,
  ) {
    let convert = rowConverter(undefined);
    core
      .query({ sql: sqlText })
      .on("fields", (fields) => {
        convert = rowConverter(fields);
      })
      .on("result", (row) => {
        this.buffer.push(convert(row));
        if (this.buffer.length >= this.batchSize) {
          core.pause();
          this.signal();
        }
      })
      .on("error", (err) => {
        this.error = err;
        this.done = true;
        this.signal();
      })
      .on("end", () => {
        this.done = true;
        this.signal();
      });
  }

  get finished(): boolean {
    return this.done;
  }

  get fatal(): boolean {
    return isFatalMysqlError(this.error);
  }

  async next(): Promise<Record<string, unknown>[] | null> {
    for (;;) {
      if (this.error !== null) {
        const err = this.error;
        this.error = null;
        await this.close();
        throw convertMysqlError(err, { sql: this.sqlForErrors });
      }
      if (this.buffer.length >= this.batchSize || (this.done && this.buffer.length > 0)) {
        return this.buffer.splice(0, this.batchSize);
      }
      if (this.done || this.closed) {
        await this.close();
        return null;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.core.resume();
      });
    }
  }

  /** Reads and drops the rest of the result (after KILL QUERY, whose error ends it). Never rejects. */
  async drain(): Promise<void> {
    while (!this.done) {
      this.buffer.length = 0;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.core.resume();
      });
    }
    this.buffer.length = 0;
    this.core.resume();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.length = 0;
    this.signal();
    if (this.onClose) await this.onClose().catch(() => undefined);
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }
}
