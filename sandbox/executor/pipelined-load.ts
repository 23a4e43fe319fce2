/**
 * Pipelined `connector.load` (docs/bridge-protocol.md, "Pipelined appends"): the guest sends a large append
 * as parts — `connector.load` payloads whose header also names the load (`load`, an id of the guest's) and
 * the part's number (`part`, from 1) — without waiting, then `connector.loadEnd {handle, load, parts}`, whose
 * answer is the rows loaded or the load's error. The host starts the driver's load at part 1 with a source
 * that yields each part as it arrives (runtime/connectors/column-parts.ts); DuckDB appends them inside one
 * transaction while the guest encodes the next part, or waits for all of them when the load must see every
 * row first. Any failure rolls the whole load back; the final call reports it.
 *
 * Everything the guest sends is checked: a part of an unknown load, a part after the final call, a final call
 * without parts, a second load on a connector that has one open, parts out of order, a part count that does
 * not match, more than MAX_QUEUED parts not yet taken, the parts' bytes past `limits.bridgeBytes` (as one
 * payload would be) → TAU_E_BRIDGE_PAYLOAD_INVALID (_TOO_LARGE), and the open load (if any) fails.
 */
import { ColumnParts, partsSource, type HostConnector, type RowSource } from "../../runtime/connectors";
import { TauError } from "../../server/contract";
import { isJsonObject } from "../json-guard";
import type { DecodedRowBatch } from "./row-batch";
import { capText } from "./run-error";

/** Parts the host holds decoded and not yet taken by the load (the guest waits for acks beyond its own limit). */
export const MAX_QUEUED = 8;
/** Ended loads remembered per run (see markFinished). */
const MAX_FINISHED = 1_024;
/** Pipelined loads open at once in one run (one per connector handle). */
const MAX_OPEN = 16;
/** The connector kinds whose loads take parts as they arrive. */
const PIPELINED_KINDS = new Set(["duckdb_local", "motherduck"]);

export interface PipelineHost {
  /** The connector of an open handle, or null (unknown or closing). */
  connector(handle: unknown): HostConnector | null;
  /** Starts the driver's load of `source` on `handle` (materializations waited for, options checked). */
  start(handle: string, connector: HostConnector, source: RowSource, options: unknown): Promise<number>;
  /** The most bytes one load's parts may add up to. */
  maxBytes: number;
}

interface Load {
  id: string;
  handle: string;
  options: string;
  received: number;
  bytes: number;
  parts: ColumnParts;
  result: Promise<number>;
  failure: unknown;
}

function invalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_BRIDGE_PAYLOAD_INVALID", `Pipelined load: ${message}`, details);
}

export class PipelinedLoads {
  private readonly open = new Map<string, Load>();
  private readonly finished = new Set<string>();
  /** Loads whose first part was refused before any load opened, with the error their final call reports. */
  private readonly refused = new Map<string, unknown>();

  constructor(private readonly host: PipelineHost) {}

  /**
   * Remembers an ended load, so a late part is refused as such. Bounded: a guest could end any number of
   * loads; a part of a load forgotten here is refused all the same, as a part of an unknown load.
   */
  private markFinished(id: string): void {
    this.finished.add(id);
    if (this.finished.size > MAX_FINISHED) this.finished.delete(this.finished.values().next().value!);
  }

  /** A part arrived (decoded); resolves once the load has taken it (back-pressure), rejects if the load failed. */
  async part(decoded: DecodedRowBatch, bytes: number): Promise<Record<string, never>> {
    const id = loadId(decoded.load);
    const n = decoded.part;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) throw this.failOpen(id, invalid(`part numbers are integers from 1 (load '${id}').`, { load: id }));
    if (this.finished.has(id)) throw invalid(`part ${n} of load '${id}' came after its final call.`, { load: id, part: n });
    let load = this.open.get(id);
    if (!load) {
      if (n !== 1) throw invalid(`part ${n} of load '${id}', which has no part 1.`, { load: id, part: n });
      load = this.begin(id, decoded);
    } else {
      if (decoded.handle !== load.handle || JSON.stringify(decoded.options ?? null) !== load.options) {
        throw this.failOpen(id, invalid(`part ${n} of load '${id}' names another connector or other options.`, { load: id, part: n }));
      }
      if (n !== load.received + 1) throw this.failOpen(id, invalid(`part ${n} of load '${id}' came after part ${load.received}.`, { load: id, part: n }));
    }
    load.received = n;
    load.bytes += bytes;
    if (load.bytes > this.host.maxBytes) {
      const limitBytes = this.host.maxBytes;
      throw this.failOpen(id, new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The payload is larger than ${limitBytes} bytes.`, { limitBytes }));
    }
    if (load.parts.queued >= MAX_QUEUED) throw this.failOpen(id, invalid(`more than ${MAX_QUEUED} parts of load '${id}' are waiting; wait for their answers.`, { load: id }));
    if (load.failure === null && !load.parts.failed) {
      await new Promise<void>((resolve) => load.parts.push(decoded.batch, resolve));
    }
    if (load.failure !== null) throw load.failure;
    return {};
  }

  /** `connector.loadEnd {handle, load, parts, abort?}`: the rows loaded, or the load's error (rolled back). */
  async end(payload: unknown): Promise<number | null> {
    const p = isJsonObject(payload) ? payload : {};
    const id = loadId(p.load);
    if (this.finished.has(id)) throw invalid(`load '${id}' has already ended.`, { load: id });
    const refused = this.refused.get(id);
    if (refused !== undefined && !this.open.has(id)) {
      this.refused.delete(id);
      this.markFinished(id);
      throw refused;
    }
    const load = this.open.get(id);
    if (!load) throw invalid(`the final call of load '${id}' came without any part.`, { load: id });
    this.open.delete(id);
    this.markFinished(id);
    if (p.handle !== load.handle) {
      const err = invalid(`the final call of load '${id}' names another connector.`, { load: id });
      await this.settle(load, err);
      throw err;
    }
    if (p.abort === true) {
      await this.settle(load, new TauError("TAU_E_CONNECTOR_CLOSED", "The load was abandoned by the pipeline."));
      return null;
    }
    if (p.parts !== load.received) {
      const err = invalid(`the final call of load '${id}' counts ${typeof p.parts === "number" ? p.parts : "no"} parts; ${load.received} arrived.`, { load: id, parts: load.received });
      await this.settle(load, err);
      throw err;
    }
    load.parts.end();
    return load.result;
  }

  /**
   * Fails the open load `id` with `err` (a part of it was refused); returns `err`. A refused first part
   * (too large) opened no load: its final call reports `err` all the same.
   */
  failOpen(id: unknown, err: unknown): unknown {
    if (typeof id !== "string") return err;
    const load = this.open.get(id);
    if (load) {
      if (load.failure === null) load.failure = err;
      load.parts.fail(err);
    } else if (!this.finished.has(id) && this.refused.size < MAX_OPEN) {
      this.refused.set(id, err);
    }
    return err;
  }

  /** Rolls back the open loads of `handle` (or all, for null): the connector is closing or the run ended. */
  async abort(handle: string | null, err: unknown): Promise<void> {
    const loads = [...this.open.values()].filter((l) => handle === null || l.handle === handle);
    for (const l of loads) {
      this.open.delete(l.id);
      this.markFinished(l.id);
    }
    await Promise.all(loads.map((l) => this.settle(l, err)));
  }

  private begin(id: string, decoded: DecodedRowBatch): Load {
    const connector = this.host.connector(decoded.handle);
    if (!connector) throw new TauError("TAU_E_CONNECTOR_CLOSED", "Unknown connector handle.");
    if (!PIPELINED_KINDS.has(connector.kind)) throw invalid(`${capText(connector.kind, 40)} takes a load in one payload, not in parts.`, { kind: capText(connector.kind, 40) });
    const handle = decoded.handle as string;
    for (const l of this.open.values()) {
      if (l.handle === handle) throw invalid(`load '${l.id}' on this connector has not ended; a second load ('${id}') cannot start.`, { load: id, open: l.id });
    }
    if (this.open.size >= MAX_OPEN) throw invalid(`more than ${MAX_OPEN} loads are open.`, { load: id });
    const parts = new ColumnParts();
    const load: Load = { id, handle, options: JSON.stringify(decoded.options ?? null), received: 0, bytes: 0, parts, result: Promise.resolve(0), failure: null };
    load.result = this.host.start(handle, connector, partsSource(parts), decoded.options);
    // A load that fails before its final call (a type conflict in a part) releases the parts still queued.
    load.result.then(
      () => undefined,
      (err: unknown) => {
        if (load.failure === null) load.failure = err;
        parts.fail(err);
      },
    );
    this.open.set(id, load);
    return load;
  }

  private async settle(load: Load, err: unknown): Promise<void> {
    if (load.failure === null) load.failure = err;
    load.parts.fail(err);
    await load.result.catch(() => undefined);
  }
}

function loadId(value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 64) throw invalid("a load id is a string of 1 to 64 characters.");
  return value;
}
