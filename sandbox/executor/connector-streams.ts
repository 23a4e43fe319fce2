/**
 * Cursors and host-side copies for one run (docs/connectors.md, docs/bridge-protocol.md):
 *
 *   - `cursor.open [sql, params, {batchSize}]` → `{cursor}`, `cursor.next [cursor]` → `{rows, done}`,
 *     `cursor.close [cursor]` → `{}` — routed to the connector's `StreamingConnector.openCursor`. At most
 *     `MAX_OPEN_CURSORS` per run; a cursor is closed when the guest closes it, when it is exhausted, when its
 *     connector closes, and when the run ends.
 *   - `load [{query: {handle, sql, params}}, options]` — the copy path: a cursor on the query's connector (any
 *     open connector of the same run) feeds its batches to the target's `LoadingConnector.loadFrom`. The rows
 *     never enter the isolate; the host holds one batch at a time.
 *
 * Every argument is hostile JSON and is validated here; answers are size-checked by the bridge.
 */
import {
  columnSource,
  oneBatch,
  parseLoadRequest,
  parseRows,
  type ColumnBatch,
  type HostConnector,
  type LoadingConnector,
  type RowCursor,
  type RowSource,
  type StreamingConnector,
} from "../../runtime/connectors";
import { TauError } from "../../server/contract";
import { isJsonObject } from "../json-guard";

/** Cursors one run may hold open at once (each holds a database connection). */
export const MAX_OPEN_CURSORS = 16;
export const DEFAULT_BATCH_SIZE = 10_000;
export const MAX_BATCH_SIZE = 100_000;
/** Batch size of host-side copies (rows held on the host at once; larger batches cost less per row). */
export const COPY_BATCH_SIZE = 50_000;
const LOAD_MODES = ["append", "replace", "upsert"] as const;

export function isStreamingConnector(c: HostConnector): c is StreamingConnector {
  return typeof (c as Partial<StreamingConnector>).openCursor === "function";
}

export function isLoadingConnector(c: HostConnector): c is LoadingConnector {
  return typeof (c as Partial<LoadingConnector>).loadFrom === "function";
}

function argsInvalid(message: string, details: Record<string, unknown> = {}, hint?: string): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details, hint);
}

function unsupported(kind: string, what: string): TauError {
  return argsInvalid(`The ${kind} connector cannot ${what}.`, { kind, unsupported: what }, "Use extract() and load(rows) with this connector, or a connector that supports it (docs/connectors.md).");
}

interface Entry {
  handle: string;
  cursor: RowCursor;
  /** Serialises next/close of one cursor (a hostile guest may send them concurrently). */
  queue: Promise<unknown>;
  closed: boolean;
  /** Closed by the host (connector closed, run ended) rather than exhausted or closed by the guest. */
  interrupted: boolean;
}

export interface RunCursorsOptions {
  /** Upper bound on a batch (the policy's extractRows). */
  maxBatchRows: number;
}

export class RunCursors {
  private readonly entries = new Map<string, Entry>();
  private readonly closedHandles = new Set<string>();
  private opening = 0;
  private nextId = 1;
  private ended = false;

  constructor(private readonly o: RunCursorsOptions) {}

  get openCount(): number {
    return this.entries.size;
  }

  /** Serves `cursor.open`, `cursor.next` and `cursor.close` on connector `handle`. */
  async call(handle: string, connector: HostConnector, method: string, args: unknown[]): Promise<unknown> {
    switch (method) {
      case "cursor.open":
        return this.open(handle, connector, args);
      case "cursor.next":
        return this.next(handle, args);
      case "cursor.close": {
        const entry = this.find(handle, args[0], "cursor.close");
        if (entry) await this.close(entry, false);
        return {};
      }
      default:
        throw argsInvalid(`Unknown cursor method '${method.slice(0, 60)}' (cursor.open, cursor.next, cursor.close).`);
    }
  }

  /** The host-side copy: `load({query}, options)` on `target`, reading `source` through a cursor. */
  async copy(target: HostConnector, optionsArg: unknown, sourceHandle: string, source: HostConnector, queryArg: unknown): Promise<number> {
    const request = parseLoadRequest(optionsArg, LOAD_MODES, target.kind);
    if (!isJsonObject(queryArg)) throw argsInvalid("load({ query }, options): query must be { handle, sql, params }.");
    const sql = requireSql(queryArg.sql);
    const params = requireParams(queryArg.params);
    if (!isLoadingConnector(target)) throw unsupported(target.kind, "load from a query handle (host-side copy)");
    if (!isStreamingConnector(source)) throw unsupported(source.kind, "be the source of a host-side copy (it cannot stream a query)");
    const entry = await this.register(sourceHandle, () => source.openCursor(sql, params, COPY_BATCH_SIZE));
    const rows: RowSource = {
      cursor: entry.cursor,
      [Symbol.asyncIterator]: (): AsyncIterator<Record<string, unknown>[]> => ({
        next: async (): Promise<IteratorResult<Record<string, unknown>[]>> => {
          const batch = await this.advance(entry);
          // A cursor closed under the copy (its connector closed, the run ended) must fail the load, not end it.
          if (entry.interrupted) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The query's connector was closed during the copy; nothing was loaded.");
          return batch === null ? { done: true, value: undefined } : { done: false, value: batch };
        },
      }),
    };
    try {
      return await target.loadFrom(rows, request);
    } finally {
      await this.close(entry, false);
    }
  }

  /** Plain rows from the guest for a LoadingConnector: one batch. */
  loadRows(target: LoadingConnector, rowsArg: unknown, optionsArg: unknown): Promise<number> {
    const request = parseLoadRequest(optionsArg, LOAD_MODES, target.kind);
    return target.loadFrom(oneBatch(parseRows(rowsArg)), request);
  }

  /** Rows that came as columns (`connector.load`) for a LoadingConnector: one batch, readable as columns. */
  loadColumns(target: LoadingConnector, batch: ColumnBatch, optionsArg: unknown): Promise<number> {
    const request = parseLoadRequest(optionsArg, LOAD_MODES, target.kind);
    return target.loadFrom(columnSource(batch), request);
  }

  /** A pipelined load's parts as they arrive (pipelined-load.ts) for a LoadingConnector. */
  loadSource(target: LoadingConnector, source: RowSource, optionsArg: unknown): Promise<number> {
    const request = parseLoadRequest(optionsArg, LOAD_MODES, target.kind);
    return target.loadFrom(source, request);
  }

  /** Closes the cursors of connector `handle` (it is closing); later opens on it are refused. */
  async closeFor(handle: string): Promise<void> {
    this.closedHandles.add(handle);
    await Promise.all([...this.entries.values()].filter((e) => e.handle === handle).map((e) => this.close(e, true)));
  }

  /** Closes every cursor (the run ended). Never rejects. */
  async closeAll(): Promise<void> {
    this.ended = true;
    await Promise.all([...this.entries.values()].map((e) => this.close(e, true)));
  }

  private async open(handle: string, connector: HostConnector, args: unknown[]): Promise<{ cursor: string }> {
    const sql = requireSql(args[0]);
    const params = requireParams(args[1]);
    const options = args[2] === undefined || args[2] === null ? {} : args[2];
    if (!isJsonObject(options)) throw argsInvalid("stream(sql, params, options): options must be an object like { batchSize: 10000 }.");
    const batchSize = options.batchSize === undefined ? DEFAULT_BATCH_SIZE : options.batchSize;
    if (typeof batchSize !== "number" || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw argsInvalid(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}.`, { option: "batchSize", max: MAX_BATCH_SIZE });
    }
    if (!isStreamingConnector(connector)) throw unsupported(connector.kind, "stream a query (stream())");
    // A batch is at most what one extract may bring into the isolate under the tenant's policy.
    const rows = Math.min(batchSize, this.o.maxBatchRows);
    const entry = await this.register(handle, () => connector.openCursor(sql, params, rows));
    return { cursor: this.idOf(entry) };
  }

  private async next(handle: string, args: unknown[]): Promise<{ rows: Record<string, unknown>[]; done: boolean }> {
    const entry = this.find(handle, args[0], "cursor.next");
    if (!entry) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The stream was already closed.");
    const step = async (): Promise<{ rows: Record<string, unknown>[]; done: boolean }> => {
      if (entry.closed) {
        if (entry.interrupted) throw new TauError("TAU_E_CONNECTOR_CLOSED", "The stream's connector was closed.");
        return { rows: [], done: true };
      }
      const rows = await entry.cursor.next();
      if (rows === null) {
        await this.closeNow(entry, false);
        return { rows: [], done: true };
      }
      return { rows, done: false };
    };
    const result = entry.queue.then(step, step);
    entry.queue = result.catch(() => undefined);
    return result;
  }

  private async register(handle: string, openCursor: () => Promise<RowCursor>): Promise<Entry> {
    if (this.ended || this.closedHandles.has(handle)) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    if (this.entries.size + this.opening >= MAX_OPEN_CURSORS) {
      throw argsInvalid(
        `At most ${MAX_OPEN_CURSORS} streams may be open at once in a run.`,
        { limit: MAX_OPEN_CURSORS },
        "Finish or close streams before opening more: break out of the for await loop, or use `await using`.",
      );
    }
    this.opening++;
    let cursor: RowCursor;
    try {
      cursor = await openCursor();
    } finally {
      this.opening--;
    }
    if (this.ended || this.closedHandles.has(handle)) {
      await cursor.close().catch(() => undefined);
      throw new TauError("TAU_E_CONNECTOR_CLOSED", "The connector closed while the stream was opening.");
    }
    const entry: Entry = { handle, cursor, queue: Promise.resolve(), closed: false, interrupted: false };
    this.entries.set(`c${this.nextId++}`, entry);
    return entry;
  }

  private idOf(entry: Entry): string {
    for (const [id, e] of this.entries) if (e === entry) return id;
    throw new TauError("TAU_E_CONNECTOR_CLOSED");
  }

  private find(handle: string, id: unknown, method: string): Entry | null {
    if (typeof id !== "string") throw argsInvalid(`${method} needs the cursor id as a string.`);
    const entry = this.entries.get(id);
    if (entry && entry.handle !== handle) throw argsInvalid(`${method}: that cursor belongs to another connector.`);
    return entry ?? null;
  }

  /** The cursor's next batch, after any call in flight on it; null once it is closed. */
  private advance(entry: Entry): Promise<Record<string, unknown>[] | null> {
    const run = async (): Promise<Record<string, unknown>[] | null> => (entry.closed ? null : await entry.cursor.next());
    const result = entry.queue.then(run, run);
    entry.queue = result.catch(() => undefined);
    return result;
  }

  /** Closes after any next() in flight on the cursor (a driver's cursor need not allow close during next). */
  private close(entry: Entry, interrupted: boolean): Promise<void> {
    if (interrupted && !entry.closed) entry.interrupted = true;
    const run = (): Promise<void> => this.closeNow(entry, interrupted);
    const result = entry.queue.then(run, run);
    entry.queue = result.catch(() => undefined);
    return result;
  }

  private async closeNow(entry: Entry, interrupted: boolean): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    if (interrupted) entry.interrupted = true;
    for (const [id, e] of this.entries) if (e === entry) this.entries.delete(id);
    await entry.cursor.close().catch(() => undefined);
  }
}

function requireSql(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") throw argsInvalid("The query needs its SQL as a non-empty string.");
  return value;
}

function requireParams(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw argsInvalid("Query parameters must be an array, e.g. [42, \"x\"].");
  return value;
}
