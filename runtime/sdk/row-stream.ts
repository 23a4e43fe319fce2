/**
 * `stream()`: a query's rows in batches, read from a cursor the host holds (`cursor.open`, `cursor.next`,
 * `cursor.close` through `connector.call`). The isolate holds one batch at a time. Internal to the SDK; the
 * public types are re-exported by `tau/connectors`.
 */
import type { ConnectorCore } from "./connector-handle";
import { fillSdkError, type TauSdkError } from "./errors";
import { callSite } from "./bridge";
import { ArrayIsArray, ObjectDefineProperty, ObjectFreeze, PromiseCtor, asyncDisposeSymbol, asyncIteratorSymbol } from "./primordials";

/**
 * Options of `stream()`: `batchSize` is the number of rows per batch (default 10,000, at most 100,000 and
 * at most the policy's rows-per-extract limit).
 *
 * @example
 * ```ts
 * const options: StreamOptions = { batchSize: 5_000 };
 * for await (const batch of db.stream("SELECT * FROM events", [], options)) console.log(batch.length);
 * ```
 */
export interface StreamOptions {
  batchSize?: number;
}

/**
 * The batches of a query, read on demand: iterate it with `for await`. Breaking out of the loop (or
 * `await using`, or `close()`) closes the cursor on the host; so does closing the connector. A stream is
 * read once.
 *
 * @example
 * ```ts
 * let total = 0;
 * for await (const batch of db.stream<{ amount: number }>("SELECT amount FROM orders")) {
 *   for (const row of batch) total += row.amount;
 *   if (total > 1e9) break; // closes the cursor
 * }
 * ```
 */
export interface RowStream<T> extends AsyncIterableIterator<T[]>, AsyncDisposable {
  /** The next batch (`done: true` once the result is exhausted). Batches are never empty. */
  next(): Promise<IteratorResult<T[], undefined>>;
  /** Closes the cursor; later `next()` calls report `done`. Called by `break` in a `for await` loop. */
  return(): Promise<IteratorResult<T[], undefined>>;
  /** Closes the cursor (same as `return()`). Safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULT_BATCH_SIZE = 10_000;
export const MAX_BATCH_SIZE = 100_000;

function badAnswer(site: TauSdkError, kind: string, method: string): TauSdkError {
  return fillSdkError(site, "TAU_E_INTERNAL", `The host answered ${kind}.${method} with a value of the wrong shape.`, "", {}, null);
}

/** Builds the stream; nothing is sent until the first `next()`. */
export function createRowStream<T>(core: ConnectorCore, sql: string, params: readonly unknown[], batchSize: number): RowStream<T> {
  const kind = core.kind;
  let cursor: string | null = null;
  let finished = false;
  let chain: Promise<unknown> = new PromiseCtor<void>((resolve) => resolve());

  // next() and return() run one after the other, whatever the caller does.
  function enqueue<R>(fn: () => Promise<R>): Promise<R> {
    const previous = chain;
    const result = (async (): Promise<R> => {
      try {
        await previous;
      } catch {
        // the previous call's failure was reported to its own caller
      }
      return await fn();
    })();
    chain = result;
    return result;
  }

  async function closeCursor(site: TauSdkError): Promise<void> {
    finished = true;
    const open = cursor;
    cursor = null;
    if (open === null || core.closed) return;
    await core.call("cursor.close", [open], site);
  }

  async function step(site: TauSdkError): Promise<IteratorResult<T[], undefined>> {
    if (finished) return { done: true, value: undefined };
    try {
      if (cursor === null) {
        const opened = (await core.call("cursor.open", [sql, params, { batchSize }], site)) as { cursor?: unknown } | null;
        if (opened === null || typeof opened !== "object" || typeof opened.cursor !== "string") throw badAnswer(site, kind, "stream");
        cursor = opened.cursor;
      }
      const answer = (await core.call("cursor.next", [cursor], site)) as { rows?: unknown; done?: unknown } | null;
      if (answer === null || typeof answer !== "object" || !ArrayIsArray(answer.rows)) throw badAnswer(site, kind, "stream");
      const rows = answer.rows as T[];
      if (answer.done === true) {
        // The host closed an exhausted cursor itself.
        finished = true;
        cursor = null;
      }
      if (rows.length > 0) return { done: false, value: rows };
      finished = true;
      cursor = null;
      return { done: true, value: undefined };
    } catch (err) {
      // A failed stream is over; release the host's cursor (best effort) and report the failure.
      try {
        await closeCursor(callSite());
      } catch {
        // the cursor is gone with its connector
      }
      throw err;
    }
  }

  const stream = {
    next(): Promise<IteratorResult<T[], undefined>> {
      const site = callSite();
      return enqueue(() => step(site));
    },
    return(): Promise<IteratorResult<T[], undefined>> {
      const site = callSite();
      return enqueue(async (): Promise<IteratorResult<T[], undefined>> => {
        try {
          await closeCursor(site);
        } catch {
          // A cursor that cannot be closed is gone already (its connector or the run ended).
        }
        return { done: true, value: undefined };
      });
    },
    async close(): Promise<void> {
      await stream.return();
    },
  };
  ObjectDefineProperty(stream, asyncIteratorSymbol, { value: () => stream });
  ObjectDefineProperty(stream, asyncDisposeSymbol, { value: (): Promise<void> => stream.close() });
  return ObjectFreeze(stream) as unknown as RowStream<T>;
}
