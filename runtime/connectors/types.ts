/**
 * The host side of a connector. The guest holds an opaque handle; every call on it crosses the bridge as
 * `connector.call {handle, method, args}` and lands on a `HostConnector` in the executor process. A driver
 * converts its own errors to Tau codes once, in one converter, and throws `TauError`s only.
 */
import type { Policy, PolicyLimits } from "../../policies";
import type { ColumnBatch } from "./column-batch";
import type { ColumnParts } from "./column-parts";

/** What a driver may know about the run that opens it. */
export interface ConnectorContext {
  /** The tenant's data folder (duckdb_local's default file and relative paths live here). */
  dataDir: string;
  policy: Policy;
  limits: PolicyLimits;
}

export interface HostConnector {
  readonly kind: string;
  /**
   * Runs one method with the guest's (already parsed and size-checked) arguments. Resolves with a JSON value,
   * or a `RawJson` when the driver built the answer's text itself (large extracts). Rejects with TauError.
   */
  call(method: string, args: unknown[]): Promise<unknown>;
  /** Releases everything the handle holds; interrupts a statement in flight. Idempotent, never rejects. */
  close(): Promise<void>;
}

export interface ConnectorDriver {
  readonly kind: string;
  open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector>;
}

/**
 * JSON text a driver already serialised (and size-checked while building), passed to the guest verbatim
 * instead of being built as objects and serialised again.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A batch-at-a-time reader over a query's result, held on the host (see docs/connectors.md). */
export interface RowCursor {
  /** The next batch, or null when the result is exhausted. Never returns an empty batch before the end. */
  next(): Promise<Record<string, unknown>[] | null>;
  /** Releases the cursor (and its server-side resources). Idempotent, never rejects. */
  close(): Promise<void>;
}

/**
 * Rows for `load`: plain rows from the guest wrap into a one-batch source; a cursor streams batches. A
 * host-side copy also passes the source's cursor (`cursor`), which a driver of the same engine may read in
 * its native form instead of iterating the rows (duckdb → duckdb: runtime/connectors/duckdb-copy.ts). Rows
 * that came over the bridge's columnar transport also carry `columns` (the same one batch, as columns), which
 * a driver that writes a column at a time reads instead of the row objects (column-batch.ts).
 */
export type RowSource = AsyncIterable<Record<string, unknown>[]> & { readonly cursor?: RowCursor; readonly columns?: ColumnBatch; readonly parts?: ColumnParts };

/** A HostConnector that can stream a query's result (for `stream()` and host-side copies). */
export interface StreamingConnector extends HostConnector {
  openCursor(sql: string, params: unknown[], batchSize: number): Promise<RowCursor>;
}

/** Load options after validation on the host. */
export interface LoadRequest {
  table: string;
  mode: "append" | "replace" | "upsert";
  /** Required for upsert: the columns that identify a row. */
  mergeKey: string[] | null;
}

/** A HostConnector whose `load` takes a RowSource (plain rows, its own cursor, or another connector's). */
export interface LoadingConnector extends HostConnector {
  loadFrom(source: RowSource, request: LoadRequest): Promise<number>;
}
