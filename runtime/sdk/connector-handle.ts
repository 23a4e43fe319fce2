/**
 * The guest half of every connector: an opaque host handle behind a lazy `connector.open`, calls as
 * `connector.call {handle, method, args}`, and an idempotent `connector.close`. Connector kinds (duckdb_local,
 * and later postgres, mysql, …) build their public methods on this. Internal to the SDK.
 */
import { bridgeCall, callSite } from "./bridge";
import { fillSdkError, type TauSdkError } from "./errors";
import { PromiseCtor } from "./primordials";

export interface ConnectorCore {
  readonly kind: string;
  /** True once close() was called. */
  readonly closed: boolean;
  /**
   * Calls `method` on the host connector, opening it first if needed. `site` is created by the public
   * method synchronously, so a failure's stack points at the pipeline's call.
   */
  call(method: string, args: unknown[], site: TauSdkError): Promise<unknown>;
  /**
   * The host's handle for this connector, opening it first if needed: what a QueryHandle of this connector
   * names when another connector's `load` copies from it on the host.
   */
  handle(site: TauSdkError): Promise<string | number>;
  /** Closes the host connector if it was opened; safe to call more than once. */
  close(): Promise<void>;
}

type OpenOutcome = { handle: string | number; error?: undefined } | { handle?: undefined; error: TauSdkError };

/** Copies a failure onto a new call site (each call gets its own stack). */
function refill(site: TauSdkError, from: TauSdkError): TauSdkError {
  return fillSdkError(site, from.code, from.message, from.hint, from.details, from.step);
}

export function createConnectorCore(kind: string, options: Record<string, unknown>): ConnectorCore {
  let opening: Promise<OpenOutcome> | null = null;
  let closed = false;

  // Opens once, on first use; the outcome (handle or failure) is kept. Never rejects.
  function open(site: TauSdkError): Promise<OpenOutcome> {
    if (opening === null) {
      opening = (async (): Promise<OpenOutcome> => {
        try {
          const value = (await bridgeCall("connector.open", { kind, options }, site)) as { handle?: unknown } | null;
          const handle = value !== null && typeof value === "object" ? value.handle : undefined;
          if (typeof handle === "string" || typeof handle === "number") return { handle };
          return { error: fillSdkError(site, "TAU_E_INTERNAL", `The host answered connector.open for ${kind} without a handle.`, "", {}, null) };
        } catch (err) {
          return { error: err as TauSdkError };
        }
      })();
    }
    return opening;
  }

  function closedError(site: TauSdkError): TauSdkError {
    return fillSdkError(
      site,
      "TAU_E_CONNECTOR_CLOSED",
      `The ${kind} connector was used after it was closed.`,
      "Use the connector inside its `await using` block, or call close() only when done with it.",
      { kind },
      null,
    );
  }

  async function handle(site: TauSdkError): Promise<string | number> {
    if (closed) throw closedError(site);
    const outcome = await open(site);
    if (outcome.error !== undefined) throw outcome.error === site ? site : refill(site, outcome.error);
    if (closed) throw closedError(site);
    return outcome.handle;
  }

  async function call(method: string, args: unknown[], site: TauSdkError): Promise<unknown> {
    const h = await handle(site);
    return await bridgeCall("connector.call", { handle: h, method, args }, site);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (opening === null) return;
    const outcome = await opening;
    if (outcome.error !== undefined) return;
    await bridgeCall("connector.close", { handle: outcome.handle }, callSite());
  }

  return {
    kind,
    get closed(): boolean {
      return closed;
    },
    call,
    handle,
    close,
  };
}

/** A promise rejected with `err`, built without touching Promise.reject (which a pipeline may patch). */
export function rejectWith(err: unknown): Promise<never> {
  return new PromiseCtor<never>((_resolve, reject) => reject(err));
}
