/**
 * Pipelined appends (docs/bridge-protocol.md, "Pipelined appends"), guest end: `load(rows, {mode:
 * "append"})` of more than PART_ROWS rows on a DuckDB connector goes as parts of PART_ROWS rows, each a
 * `connector.load` payload (row-batch.ts) whose header also names the load and the part's number. The guest
 * sends a part and encodes the next one while the host decodes and appends it (the bridge's dispatch does not
 * wait for the host); when more than IN_FLIGHT parts are unanswered it waits for the oldest answer. A final
 * `connector.loadEnd {handle, load, parts}` resolves to the rows loaded or rejects with the load's error (the
 * host rolled every part back). A part the columnar format does not fit abandons the load (`abort`, rolled
 * back) and the caller sends the rows another way. Internal to the SDK.
 */
import { bridgeSend, callSite, deferredErrorPending } from "./bridge";
import type { TauSdkError } from "./errors";
import { arrayPush, safeMap } from "./primordials";
import { encodeRowBatch } from "./row-batch";

/** Rows per part (see docs/bridge-protocol.md for the measurements behind it). */
export const PART_ROWS = 8_192;
/** Parts sent and not yet answered before the guest waits for the oldest answer. */
const IN_FLIGHT = 2;
/** What loadInParts returns when it sent nothing that loaded: the caller loads the rows another way. */
export const NOT_SENT: unique symbol = Symbol("notSent");
/** The connector kinds whose hosts take a load in parts. */
const KINDS: Record<string, true> = { __proto__: null, duckdb_local: true, motherduck: true } as unknown as Record<string, true>;

let nextLoad = 1;

async function acked(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch {
    return false;
  }
}

/** Whether a load of `count` rows in `mode` on a `kind` connector goes in parts. */
export function loadsInParts(kind: string, mode: string, count: number): boolean {
  return mode === "append" && KINDS[kind] === true && count > PART_ROWS && !deferredErrorPending();
}

/** The last pipelined load per connector handle: the host takes one at a time per connector, so they queue here. */
const lastLoad = safeMap<string | number, Promise<boolean>>();

/** Sends `rows` in parts; resolves to the final call's value, or NOT_SENT. Rejects with the load's error at `site`. */
export async function loadInParts(handle: string | number, opts: Record<string, unknown>, rows: readonly unknown[], site: TauSdkError): Promise<unknown> {
  const before = lastLoad.get(handle);
  const mine = sendParts(before, handle, opts, rows, site);
  const settled = acked(mine);
  lastLoad.set(handle, settled);
  try {
    return await mine;
  } finally {
    if (lastLoad.get(handle) === settled) lastLoad.delete(handle);
  }
}

async function sendParts(before: Promise<boolean> | undefined, handle: string | number, opts: Record<string, unknown>, rows: readonly unknown[], site: TauSdkError): Promise<unknown> {
  if (before) await before;
  const n = rows.length;
  const load = `p${nextLoad++}`;
  const acks: Promise<boolean>[] = [];
  let oldest = 0;
  let sent = 0;
  for (let from = 0; from < n; from += PART_ROWS) {
    let text: string | null;
    try {
      text = encodeRowBatch(handle, opts, rows, { load, part: sent + 1, from, to: from + PART_ROWS < n ? from + PART_ROWS : n });
    } catch {
      text = null;
    }
    if (text === null) {
      if (sent > 0) await acked(bridgeSend("connector.loadEnd", { handle, load, parts: sent, abort: true }, callSite()));
      return NOT_SENT;
    }
    arrayPush(acks, acked(bridgeSend("connector.load", text, callSite(), true)));
    sent++;
    // A refused part: stop sending; the final call reports the load's error.
    if (sent - oldest > IN_FLIGHT && !(await acks[oldest++]!)) break;
  }
  return bridgeSend("connector.loadEnd", { handle, load, parts: sent }, site);
}
