/**
 * The host side of a connector. The guest holds an opaque handle; every call on it crosses the bridge as
 * `connector.call {handle, method, args}` and lands on a `HostConnector` in the executor process. A driver
 * converts its own errors to Tau codes once, in one converter, and throws `TauError`s only.
 */
import type { Policy, PolicyLimits } from "../../policies";

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
