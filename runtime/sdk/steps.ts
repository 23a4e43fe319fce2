/**
 * Steps: their bridge messages (`step.start` / `step.end`) and the attribution of errors to steps.
 * Internal to the SDK; pipelines see the `Step` interface (types.ts) through `ctx.step`.
 *
 * How a step's outcome is decided
 * -------------------------------
 * - Callback form `ctx.step(name, fn)`: exact. `fn` threw → the step is `failed`, the error is attributed
 *   to it (unless a step nested in it already failed with it, see `attribute`) and rethrown; otherwise
 *   `succeeded`.
 * - Errors answered by the host (a TauSdkError from a connector call, a secret check…) are attributed, when
 *   the call is made, to the innermost open step (the most recently started step not yet ended).
 * - Disposable form `await using s = ctx.step(name)`: `[Symbol.asyncDispose]()` is called with no
 *   argument, so it cannot tell whether its block is unwinding because of an error. The step's `step.end`
 *   is therefore deferred:
 *   - at the next bridge activity (any operation other than `step.end` and `connector.close`, which happen
 *     while scopes unwind, error or not) the pipeline evidently went on: the step ends `succeeded`, and the
 *     host is told how long the end was held back (`deferredMs`) so it can date the end correctly;
 *   - at run end, if the run succeeded, it ends `succeeded`; if the run failed, the error's step is the
 *     step the error was attributed to, or — when no step claims it — the most recently started step among
 *     those still deferred or open (the innermost one when the error was thrown: disposal runs inner to
 *     outer, so the last one *closed* is the outermost). That step and its ancestors among the deferred
 *     steps end `failed`; the other deferred steps end `succeeded`.
 *   A pipeline that catches an error outside a disposable step's block and then ends the run without any
 *   further SDK call is reported as if the step had failed: the callback form has no such ambiguity.
 * - Steps still open at run end (never disposed) end `failed` if the run failed, else `succeeded`.
 */
import { bridgePost } from "./bridge";
import { createSdkError, errorData, type TauSdkError } from "./errors";
import { capString, errorMessage, safeString, toJson } from "./json";
import { createLog } from "./log";
import {
  ArrayIsArray,
  DateNow,
  NumberCtor,
  NumberIsFinite,
  ObjectFreeze,
  ObjectGetPrototypeOf,
  ObjectPrototype,
  arrayIndexOf,
  arrayPush,
  arraySplice,
  asyncDisposeSymbol,
  disposeSymbol,
  safeWeakMap,
  stringTrim,
} from "./primordials";
import type { LogFn, Step } from "./types";

const NAME_MAX = 256;

export type StepStatus = "succeeded" | "failed";

export interface StepRecord {
  readonly id: number;
  readonly name: string;
  readonly parent: StepRecord | null;
  state: "open" | "disposed" | "ended";
  /** Ended with status failed. */
  failed: boolean;
  rowsIn: number | null;
  rowsOut: number | null;
  meta: Record<string, unknown>;
  disposedAt: number;
}

function stepError(message: string): TauSdkError {
  return createSdkError("TAU_E_STEP_INVALID", message, {
    hint: 'Give each step a non-empty name, e.g. ctx.step("load", async (step) => { … }) or `await using step = ctx.step("load")`.',
  });
}

function rowCount(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === "bigint" ? NumberCtor(value) : value;
  if (typeof n !== "number" || !NumberIsFinite(n) || n < 0 || n % 1 !== 0) {
    throw stepError(`step.${field} must be a non-negative integer or null, got ${capString(safeString(value), 100)}.`);
  }
  return n;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || ArrayIsArray(value)) return false;
  const proto = ObjectGetPrototypeOf(value);
  return proto === ObjectPrototype || proto === null;
}

/** A JSON copy of step.meta for step.end; a meta that is not JSON becomes a note, never a failure. */
function metaForEnd(meta: Record<string, unknown>): unknown {
  try {
    const text = toJson(meta);
    if (text !== undefined) return meta;
  } catch (err) {
    return { tauMetaError: `step.meta is not JSON-serialisable: ${errorMessage(err)}` };
  }
  return {};
}

/** The `Step` object a pipeline holds. */
class StepHandle implements Step {
  readonly #record: StepRecord;
  readonly #tracker: StepTracker;
  readonly log: LogFn;

  constructor(record: StepRecord, tracker: StepTracker) {
    this.#record = record;
    this.#tracker = tracker;
    this.log = createLog(record.name);
  }

  get name(): string {
    return this.#record.name;
  }

  get rowsIn(): number | null {
    return this.#record.rowsIn;
  }

  set rowsIn(value: number | null) {
    this.#record.rowsIn = rowCount(value, "rowsIn");
  }

  get rowsOut(): number | null {
    return this.#record.rowsOut;
  }

  set rowsOut(value: number | null) {
    this.#record.rowsOut = rowCount(value, "rowsOut");
  }

  get meta(): Record<string, unknown> {
    return this.#record.meta;
  }

  set meta(value: Record<string, unknown>) {
    if (!isPlainObject(value)) throw stepError("step.meta must be a plain object, e.g. { table: \"staging.orders\" }.");
    this.#record.meta = value;
  }

  async [asyncDisposeSymbol](): Promise<void> {
    this.#tracker.dispose(this.#record);
  }

  [disposeSymbol](): void {
    this.#tracker.dispose(this.#record);
  }
}
ObjectFreeze(StepHandle.prototype);
ObjectFreeze(StepHandle);

/** The steps of one run. */
export class StepTracker {
  /** Started and neither ended nor disposed, in start order. */
  readonly #open: StepRecord[] = [];
  /** Disposed, end deferred (see the file comment), in dispose order. */
  readonly #deferred: StepRecord[] = [];
  readonly #handles = safeWeakMap<StepRecord, Step>();
  /** Error → the step it is attributed to. Primitives thrown (`throw "x"`) are kept aside. */
  readonly #attribution = safeWeakMap<object, StepRecord>();
  #primitive: { value: unknown; step: StepRecord } | null = null;
  #nextId = 1;

  /** The innermost open step: the most recently started one not yet ended or disposed. */
  innermost(): StepRecord | null {
    return this.#open.length > 0 ? this.#open[this.#open.length - 1]! : null;
  }

  /** Starts a step (throws TAU_E_STEP_INVALID for a bad name) and returns its handle. */
  start(name: unknown): Step {
    return this.#handles.get(this.#begin(name))!;
  }

  #begin(name: unknown): StepRecord {
    if (typeof name !== "string" || stringTrim(name) === "") throw stepError("A step needs a non-empty name.");
    if (name.length > NAME_MAX) throw stepError(`A step name is at most ${NAME_MAX} characters.`);
    const record: StepRecord = {
      id: this.#nextId++,
      name,
      parent: this.innermost(),
      state: "open",
      failed: false,
      rowsIn: null,
      rowsOut: null,
      meta: {},
      disposedAt: 0,
    };
    // Sent before the step is open: a deferred step ends before this one starts.
    bridgePost("step.start", { id: record.id, name });
    arrayPush(this.#open, record);
    this.#handles.set(record, ObjectFreeze(new StepHandle(record, this)));
    return record;
  }

  /** The callback form: runs fn as a step and ends it with fn's outcome. */
  async run<T>(name: unknown, fn: unknown): Promise<T> {
    if (typeof fn !== "function") throw stepError("ctx.step(name, fn) needs a function as its second argument.");
    const record = this.#begin(name);
    let value: T;
    try {
      value = (await (fn as (step: Step) => unknown)(this.#handles.get(record)!)) as T;
    } catch (err) {
      this.attribute(err, record);
      this.end(record, "failed", err);
      throw err;
    }
    this.end(record, "succeeded");
    return value;
  }

  /**
   * Attributes `err`, which surfaced through `step`, to `step` — unless it is already attributed to `step`
   * or to a step nested in it whose scope the error evidently left (that step ended failed, or was
   * disposed and awaits its deferred end). A nested step still open, or ended successfully, cannot be
   * where the error came from: it was a concurrent sibling that happened to be innermost when a host call
   * failed (start-time parentage cannot tell `Promise.all` siblings from children).
   */
  attribute(err: unknown, step: StepRecord): void {
    const current = this.attributionOf(err);
    if (current === step) return;
    if (current !== null && isSelfOrDescendant(current, step) && (current.failed || current.state === "disposed")) return;
    if (typeof err === "object" && err !== null) this.#attribution.set(err, step);
    else this.#primitive = { value: err, step };
  }

  attributionOf(err: unknown): StepRecord | null {
    if (typeof err === "object" && err !== null) return this.#attribution.get(err) ?? null;
    return this.#primitive !== null && this.#primitive.value === err ? this.#primitive.step : null;
  }

  /** `[Symbol.asyncDispose]`: the step's end is deferred (see the file comment). */
  dispose(record: StepRecord): void {
    if (record.state !== "open") return;
    removeFrom(this.#open, record);
    record.state = "disposed";
    record.disposedAt = DateNow();
    arrayPush(this.#deferred, record);
  }

  /** Ends every deferred step as succeeded: called before each bridge activity. */
  flushDeferred(): void {
    if (this.#deferred.length === 0) return;
    const now = DateNow();
    const list = arraySplice(this.#deferred, 0, this.#deferred.length) as StepRecord[];
    for (let i = 0; i < list.length; i++) {
      const record = list[i]!;
      this.#sendEnd(record, "succeeded", undefined, now - record.disposedAt);
    }
  }

  /** Ends a step now (idempotent). */
  end(record: StepRecord, status: StepStatus, error?: unknown): void {
    if (record.state === "ended") return;
    removeFrom(this.#open, record);
    removeFrom(this.#deferred, record);
    this.#sendEnd(record, status, error, 0);
  }

  #sendEnd(record: StepRecord, status: StepStatus, error: unknown, deferredMs: number): void {
    record.state = "ended";
    record.failed = status === "failed";
    const payload: Record<string, unknown> = {
      id: record.id,
      status,
      rowsIn: record.rowsIn,
      rowsOut: record.rowsOut,
      meta: metaForEnd(record.meta),
    };
    if (status === "failed") {
      const data = errorData(error);
      const brief: Record<string, unknown> = { name: data.name, message: capString(data.message, 4096) };
      if (data.code !== undefined) brief.code = data.code;
      payload.error = brief;
    }
    if (deferredMs > 0) payload.deferredMs = deferredMs;
    bridgePost("step.end", payload);
  }

  /**
   * Ends every step still deferred or open when the pipeline's function has settled, and returns the name
   * of the step the run's error belongs to (null when the run succeeded or no step claims it).
   */
  finishRun(failed: boolean, error: unknown): string | null {
    let errorStep: StepRecord | null = failed ? this.attributionOf(error) : null;
    if (failed && errorStep === null) {
      for (let i = 0; i < this.#deferred.length; i++) {
        const record = this.#deferred[i]!;
        if (errorStep === null || record.id > errorStep.id) errorStep = record;
      }
      const innermostOpen = this.innermost();
      if (innermostOpen !== null && (errorStep === null || innermostOpen.id > errorStep.id)) errorStep = innermostOpen;
    }
    const now = DateNow();
    const deferred = arraySplice(this.#deferred, 0, this.#deferred.length) as StepRecord[];
    for (let i = 0; i < deferred.length; i++) {
      const record = deferred[i]!;
      const stepFailed = failed && errorStep !== null && isSelfOrDescendant(errorStep, record);
      this.#sendEnd(record, stepFailed ? "failed" : "succeeded", error, now - record.disposedAt);
    }
    while (this.#open.length > 0) {
      const record = this.#open[this.#open.length - 1]!;
      this.end(record, failed ? "failed" : "succeeded", error);
    }
    return errorStep === null ? null : errorStep.name;
  }
}

/** Is `step` the same as `ancestor` or nested (by start-time parentage) in it? */
function isSelfOrDescendant(step: StepRecord, ancestor: StepRecord): boolean {
  for (let s: StepRecord | null = step; s !== null; s = s.parent) if (s === ancestor) return true;
  return false;
}

function removeFrom(list: StepRecord[], record: StepRecord): void {
  const index = arrayIndexOf(list, record);
  if (index >= 0) arraySplice(list, index, 1);
}
