/**
 * The guest end of the bridge (docs/bridge-protocol.md). Every operation leaves the isolate as
 * `(id, op, payloadJson)` through the dispatch function guest.ts captured; answers come back through
 * `deliver(id, answerJson)`. Internal to the SDK.
 */
import { createSdkError, fillSdkError, type TauErrorCode, type TauSdkError } from "./errors";
import { errorMessage, parseJson, toJson } from "./json";
import { ArrayIsArray, PromiseCtor, safeMap, stringSlice } from "./primordials";

export type DispatchFn = (id: number, op: string, payload: string) => void;
export type DispatchSyncFn = (op: string, payload: string) => string;

/** What the bridge needs from the run in progress (installed by entry.ts for the run's lifetime). */
export interface BridgeHooks {
  /** The innermost open step when a call is made: a failed answer is attributed to it. */
  currentStep(): { readonly name: string } | null;
  /** Records that `err` happened in `step` (see steps.ts). */
  attribute(err: TauSdkError, step: { readonly name: string }): void;
  /** Called before every operation that counts as activity (ends deferred disposable steps). */
  beforeActivity(): void;
}

interface Pending {
  site: TauSdkError;
  step: { readonly name: string } | null;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

let dispatch: DispatchFn | null = null;
let dispatchSync: DispatchSyncFn | null = null;
let hooks: BridgeHooks | null = null;
let nextCallId = 1;
const pending = safeMap<number, Pending>();

/** Answers to fire-and-check operations (step.start/step.end) that failed; surfaced at the next call. */
let deferredError: TauSdkError | null = null;
let inflight = 0;
let inflightDrained: (() => void) | null = null;

/** Operations that do not count as activity: they happen while a scope unwinds, error or not. */
const PASSIVE_OPS: Record<string, true> = { "step.end": true, "connector.close": true };

export function installBridge(asyncFn: DispatchFn, syncFn: DispatchSyncFn): void {
  dispatch = asyncFn;
  dispatchSync = syncFn;
}

export function setBridgeHooks(next: BridgeHooks | null): void {
  hooks = next;
}

/** A call-site error: create it synchronously where the pipeline called the SDK. */
export function callSite(): TauSdkError {
  return createSdkError("TAU_E_INTERNAL", "Sandbox bridge call failed.");
}

function encode(op: string, payload: unknown, site: TauSdkError): string {
  let text: string | undefined;
  try {
    text = toJson(payload);
  } catch (err) {
    throw fillSdkError(
      site,
      "TAU_E_BRIDGE_PAYLOAD_INVALID",
      `The data passed to ${op} is not plain JSON: ${errorMessage(err)}`,
      "Pass plain JSON values (objects, arrays, strings, numbers, booleans, null, Dates); no cycles or functions.",
      { op },
      hooks?.currentStep()?.name ?? null,
    );
  }
  if (text === undefined) {
    throw fillSdkError(site, "TAU_E_BRIDGE_PAYLOAD_INVALID", `The data passed to ${op} has no JSON form.`, "", { op }, null);
  }
  return text;
}

function noSandbox(site: TauSdkError): TauSdkError {
  return fillSdkError(
    site,
    "TAU_E_INTERNAL",
    "The tau SDK is not running inside a Tau sandbox.",
    "Pipelines run through `tau run NAME`; the SDK cannot be used from plain Node.",
    {},
    null,
  );
}

/** Turns an answer text into its value, or fills `site` with the host's error and returns it as `error`. */
function decode(answerText: unknown, site: TauSdkError, step: { readonly name: string } | null): { value?: unknown; error?: TauSdkError } {
  let answer: unknown;
  try {
    answer = typeof answerText === "string" ? parseJson(answerText) : undefined;
  } catch {
    answer = undefined;
  }
  if (typeof answer !== "object" || answer === null || ArrayIsArray(answer)) {
    return { error: fillSdkError(site, "TAU_E_INTERNAL", "The host sent a malformed bridge answer.", "", {}, step?.name ?? null) };
  }
  const a = answer as { ok?: unknown; value?: unknown; error?: unknown };
  if (a.ok === true) return { value: a.value };
  const e = (typeof a.error === "object" && a.error !== null ? a.error : {}) as Record<string, unknown>;
  const code = typeof e.code === "string" && stringSlice(e.code, 0, 6) === "TAU_E_" ? (e.code as TauErrorCode) : "TAU_E_INTERNAL";
  const details = typeof e.details === "object" && e.details !== null && !ArrayIsArray(e.details) ? (e.details as Record<string, unknown>) : {};
  fillSdkError(
    site,
    code,
    typeof e.message === "string" ? e.message : "The host refused the operation.",
    typeof e.hint === "string" ? e.hint : "",
    details,
    step?.name ?? null,
  );
  if (step && hooks) hooks.attribute(site, step);
  return { error: site };
}

/**
 * Sends an operation on the pipeline's behalf and resolves to the host's `value` (or rejects with a
 * TauSdkError). Never throws synchronously. `site` should be created where the pipeline called the SDK,
 * so a failure's stack points at the pipeline's line. A refused step operation from earlier is thrown
 * here first.
 */
export function bridgeCall(op: string, payload: unknown, site: TauSdkError = callSite()): Promise<unknown> {
  if (deferredError && !PASSIVE_OPS[op]) {
    const err = deferredError;
    deferredError = null;
    return rejected(err);
  }
  return send(op, payload, site);
}

function rejected(err: unknown): Promise<unknown> {
  return new PromiseCtor<unknown>((_resolve, reject) => reject(err));
}

/**
 * Like bridgeCall, with the payload already serialised by the caller (the columnar row transport,
 * row-batch.ts, writes its own text).
 */
export function bridgeCallText(op: string, payloadText: string, site: TauSdkError = callSite()): Promise<unknown> {
  if (deferredError && !PASSIVE_OPS[op]) {
    const err = deferredError;
    deferredError = null;
    return rejected(err);
  }
  return send(op, payloadText, site, true);
}

/** Whether a refused step operation waits to be thrown at the next SDK call (a pipelined load then is not started). */
export function deferredErrorPending(): boolean {
  return deferredError !== null;
}

/**
 * Sends an operation of a pipelined load (row-batch-parts.ts) without throwing a deferred step refusal first:
 * the load was started only with none pending, and its final call must reach the host so the load ends.
 */
export function bridgeSend(op: string, payload: unknown, site: TauSdkError, encoded = false): Promise<unknown> {
  return send(op, payload, site, encoded);
}

function send(op: string, payload: unknown, site: TauSdkError, encoded = false): Promise<unknown> {
  const step = hooks?.currentStep() ?? null;
  return new PromiseCtor<unknown>((resolve, reject) => {
    if (!dispatch) {
      reject(noSandbox(site));
      return;
    }
    const text = encoded ? (payload as string) : encode(op, payload, site);
    if (!PASSIVE_OPS[op]) hooks?.beforeActivity();
    const id = nextCallId++;
    pending.set(id, { site, step, resolve, reject });
    try {
      dispatch(id, op, text);
    } catch (err) {
      pending.delete(id);
      reject(fillSdkError(site, "TAU_E_INTERNAL", `The sandbox bridge failed ${op}: ${errorMessage(err)}`, "", {}, null));
    }
  });
}

/** Sends an already-serialised operation whose answer nobody awaits (id 0), e.g. `log`. Never throws. */
export function bridgeNotifyText(op: string, payloadJson: string): void {
  if (!dispatch) return;
  if (!PASSIVE_OPS[op]) hooks?.beforeActivity();
  try {
    dispatch(0, op, payloadJson);
  } catch {
    // A notification that cannot be delivered (the host is tearing the run down) is dropped.
  }
}

/**
 * Sends an operation whose answer is only checked, not awaited (step.start, step.end): the pipeline goes
 * on at once; a refusal is thrown at the pipeline's next SDK call, or fails the run at its end.
 */
export function bridgePost(op: string, payload: unknown): void {
  inflight++;
  const done = (): void => {
    inflight--;
    if (inflight === 0 && inflightDrained) {
      const drained = inflightDrained;
      inflightDrained = null;
      drained();
    }
  };
  const settled = send(op, payload, callSite());
  // Attach through the captured constructor's machinery (an async function), not settled.then.
  void (async (): Promise<void> => {
    try {
      await settled;
    } catch (err) {
      if (!deferredError && typeof err === "object" && err !== null) deferredError = err as TauSdkError;
    }
    done();
  })();
}

/** Resolves when every bridgePost has been answered. */
export async function drainPosts(): Promise<void> {
  if (inflight === 0) return;
  await new PromiseCtor<void>((resolve) => {
    inflightDrained = resolve;
  });
}

/** Takes the first refused bridgePost, if any (it is then no longer thrown at the next call). */
export function takeDeferredError(): TauSdkError | null {
  const err = deferredError;
  deferredError = null;
  return err;
}

/** Synchronous operation (`secret.check`): returns the host's value or throws a TauSdkError. */
export function bridgeCallSync(op: string, payload: unknown, site: TauSdkError = callSite()): unknown {
  if (deferredError) {
    const err = deferredError;
    deferredError = null;
    throw err;
  }
  const step = hooks?.currentStep() ?? null;
  if (!dispatchSync) throw noSandbox(site);
  const text = encode(op, payload, site);
  hooks?.beforeActivity();
  let answer: unknown;
  try {
    answer = dispatchSync(op, text);
  } catch (err) {
    throw fillSdkError(site, "TAU_E_INTERNAL", `The host failed ${op}: ${errorMessage(err)}`, "", {}, step?.name ?? null);
  }
  const decoded = decode(answer, site, step);
  if (decoded.error) throw decoded.error;
  return decoded.value;
}

/**
 * The host's answers (the `deliver` entry point): `deliver(id, answerJson, id2, answerJson2, …)` — one or
 * more pairs, so the host can hand over every answer that is ready in one call into the isolate. Unknown ids
 * and malformed pairs are ignored.
 */
export function deliver(...pairs: unknown[]): void {
  for (let i = 0; i + 1 < pairs.length; i += 2) deliverOne(pairs[i], pairs[i + 1]);
}

function deliverOne(id: unknown, answerText: unknown): void {
  if (typeof id !== "number") return;
  const call = pending.get(id);
  if (!call) return;
  pending.delete(id);
  const decoded = decode(answerText, call.site, call.step);
  if (decoded.error) call.reject(decoded.error);
  else call.resolve(decoded.value);
}
