/**
 * A run's log lines and steps, as the host records them: validated (guest JSON is hostile), capped
 * (`logLineBytes`, `logBytesPerRun`), scrubbed of secrets, timestamped and timed on the host, then emitted as
 * SandboxEvents.
 */
import type { PolicyLimits } from "../../policies";
import { isErrorCode, TauError, type ErrorCode, type LogLevel } from "../../server/contract";
import { isJsonObject, utf8Bytes } from "../json-guard";
import type { SecretScrubber } from "../scrub";
import type { SandboxEvent } from "../types";
import { capText } from "./run-error";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const STEP_NAME_MAX = 200;
const STEP_META_MAX_BYTES = 64 * 1024;

/** Cuts a string to at most `maxBytes` UTF-8 bytes (never inside a character), adding a marker. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = utf8Bytes(text);
  if (bytes <= maxBytes) return text;
  const buf = Buffer.from(text, "utf8");
  let end = maxBytes;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--; // back off a continuation byte
  return `${buf.subarray(0, end).toString("utf8")}… [truncated ${bytes - end} bytes]`;
}

interface OpenStep {
  name: string;
  startedMs: number;
}

export class RunEvents {
  private logBytes = 0;
  private logDropped = 0;
  private readonly steps = new Map<number, OpenStep>();
  private closed = false;

  constructor(
    private readonly limits: PolicyLimits,
    private readonly scrubber: SecretScrubber,
    private readonly emit: (event: SandboxEvent) => void,
  ) {}

  /** Lines dropped after the run's log budget ran out. */
  get droppedLogLines(): number {
    return this.logDropped;
  }

  /** The innermost open step (most recently started and not ended), for errors the host attributes. */
  innermostStep(): string | null {
    let last: OpenStep | null = null;
    for (const s of this.steps.values()) if (!last || s.startedMs >= last.startedMs) last = s;
    return last?.name ?? null;
  }

  /** `log {level, message, fields?, step?}`. Never throws: a malformed line is logged as best it can be. */
  log(payload: unknown): void {
    if (this.closed) return;
    const p = isJsonObject(payload) ? payload : { message: payload };
    const level = LEVELS.includes(p.level as LogLevel) ? (p.level as LogLevel) : "info";
    const step = typeof p.step === "string" ? capText(p.step, STEP_NAME_MAX) : null;
    let message = truncateUtf8(this.scrubber.scrubText(typeof p.message === "string" ? p.message : String(p.message ?? "")), this.limits.logLineBytes);
    let fields: Record<string, unknown> | null = isJsonObject(p.fields) ? this.scrubber.scrubValue(p.fields) : null;
    let bytes = utf8Bytes(message);
    if (fields) {
      const fieldBytes = utf8Bytes(JSON.stringify(fields));
      if (bytes + fieldBytes > this.limits.logLineBytes) {
        fields = { truncated: `fields larger than the ${this.limits.logLineBytes}-byte line limit were dropped` };
      } else bytes += fieldBytes;
    }
    if (this.logDropped > 0) {
      this.logDropped++;
      return;
    }
    if (this.logBytes + bytes > this.limits.logBytesPerRun) {
      this.logDropped++;
      message = `Log limit reached: this run wrote ${this.logBytes} bytes of logs (limit ${this.limits.logBytesPerRun}); further log lines are dropped.`;
      this.emit({ kind: "log", ts: now(), level: "warn", step: null, message, fields: null });
      return;
    }
    this.logBytes += bytes;
    this.emit({ kind: "log", ts: now(), level, step, message, fields });
  }

  /** `step.start {id, name}`. Throws TauError (answered to the guest). */
  stepStart(payload: unknown): void {
    const p = isJsonObject(payload) ? payload : {};
    const id = p.id;
    if (typeof id !== "number" || !Number.isSafeInteger(id)) throw stepInvalid("step.start needs an integer id.");
    if (typeof p.name !== "string" || p.name.trim() === "") throw stepInvalid("A step needs a non-empty name.");
    if (this.steps.has(id)) throw stepInvalid(`Step id ${id} is already open.`);
    const name = capText(p.name, STEP_NAME_MAX);
    this.steps.set(id, { name, startedMs: performance.now() });
    if (!this.closed) this.emit({ kind: "step.started", ts: now(), step: name });
  }

  /** `step.end {id, status, rowsIn, rowsOut, meta, error?}`. Throws TauError (answered to the guest). */
  stepEnd(payload: unknown): void {
    const p = isJsonObject(payload) ? payload : {};
    const id = p.id;
    const open = typeof id === "number" ? this.steps.get(id) : undefined;
    if (!open) throw stepInvalid(`No open step with id ${String(id)}.`);
    this.steps.delete(id as number);
    const status = p.status === "failed" ? "failed" : "succeeded";
    let error: { code: ErrorCode; message: string } | null = null;
    if (status === "failed") {
      const e = isJsonObject(p.error) ? p.error : {};
      error = {
        code: isErrorCode(e.code) ? e.code : "TAU_E_PIPELINE_ERROR",
        message: capText(this.scrubber.scrubText(typeof e.message === "string" ? e.message : "The step failed.")),
      };
    }
    // A disposable step's end can reach the host late (the guest defers it to the next activity);
    // `deferredMs` says by how much, bounded by what the host measured.
    const deferredMs = typeof p.deferredMs === "number" && Number.isFinite(p.deferredMs) && p.deferredMs > 0 ? p.deferredMs : 0;
    this.finishStep(open, status, rowCount(p.rowsIn), rowCount(p.rowsOut), this.meta(p.meta), error, deferredMs);
  }

  /**
   * Ends every step still open when the run ends: failed with the run's error, or — on success — failed
   * with TAU_E_STEP_INVALID since nothing ended it. Then no more events are emitted.
   */
  closeAll(runError: { code: ErrorCode; message: string } | null): void {
    const open = [...this.steps.values()].sort((a, b) => b.startedMs - a.startedMs);
    this.steps.clear();
    for (const s of open) {
      this.finishStep(s, "failed", null, null, {}, runError ?? { code: "TAU_E_STEP_INVALID", message: "The step was still open when the run finished." });
    }
    this.closed = true;
  }

  private finishStep(
    open: OpenStep,
    status: "succeeded" | "failed",
    rowsIn: number | null,
    rowsOut: number | null,
    meta: Record<string, unknown>,
    error: { code: ErrorCode; message: string } | null,
    deferredMs = 0,
  ): void {
    if (this.closed) return;
    const measured = Math.max(0, performance.now() - open.startedMs);
    const duration = measured - Math.min(deferredMs, measured);
    this.emit({
      kind: "step.finished",
      ts: new Date(Date.now() - (measured - duration)).toISOString(),
      step: open.name,
      status,
      durationMs: Math.round(duration),
      rowsIn,
      rowsOut,
      meta,
      error,
    });
  }

  private meta(value: unknown): Record<string, unknown> {
    if (!isJsonObject(value)) return {};
    const scrubbed = this.scrubber.scrubValue(value);
    const bytes = utf8Bytes(JSON.stringify(scrubbed));
    return bytes > STEP_META_MAX_BYTES ? { truncated: `step meta larger than ${STEP_META_MAX_BYTES} bytes was dropped` } : scrubbed;
  }
}

function rowCount(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
}

function stepInvalid(message: string): TauError {
  return new TauError("TAU_E_STEP_INVALID", message);
}

function now(): string {
  return new Date().toISOString();
}
