/**
 * One run (or one describe) in one fresh isolate, start to end: set up (guest-runtime.ts), watchdogs
 * (watchdog.ts), the bridge (bridge.ts), the guest's answer validated and turned into a RunOutcome, then
 * cleanup — open steps ended, connectors closed, isolate disposed. An isolate is never reused.
 */
import type ivm from "isolated-vm";
import { wallSecFor, type Policy, type PolicyLimits } from "../../policies";
import type { ConnectorHost } from "../../runtime/connectors";
import type { ErrorCode, RunError } from "../../server/contract";
import { isJsonObject, parseGuardedJson, stringifyGuarded } from "../json-guard";
import { SecretScrubber } from "../scrub";
import type { RunJobSecrets, RunOutcome, SandboxEvent } from "../types";
import type { RunJobWithoutCode } from "./protocol";

export type { RunJobWithoutCode };
import { Bridge } from "./bridge";
import { BundleEntry, type DispatchHandlers, type GuestRuntime, type PreparedIsolate } from "./guest-runtime";
import type { BundleLocator } from "./locate";
import { DESCRIBE_LIMITS, type RawDescribeOutcome, type RunStats } from "./protocol";
import { runError, runErrorFromGuest, runErrorFromThrown } from "./run-error";
import { RunEvents } from "./run-events";
import { JobSecretSource, RunSecrets, type SecretSource } from "./secrets";
import { Watchdog, type Termination } from "./watchdog";

export interface SessionDeps {
  guest: GuestRuntime;
  connectors: ConnectorHost;
  secrets: SecretSource;
}


/** Connectors get this long to close at the end of a run before the outcome is reported anyway. */
const CLOSE_GRACE_MS = 2000;

/**
 * After a disposal, the isolate's thread stops at its next interrupt check. A thread still busy after this
 * long is stuck in an uninterruptible built-in (`Array(1e9).fill(0)`): the executor reports itself wedged.
 */
const TERMINATION_GRACE_MS = 2000;

const TERMINATION_CODES: Record<Termination, ErrorCode> = {
  timeout: "TAU_E_RUN_TIMEOUT",
  cpu: "TAU_E_RUN_CPU_LIMIT",
  memory: "TAU_E_RUN_MEMORY_LIMIT",
  cancelled: "TAU_E_RUN_CANCELLED",
};

type Settled = { kind: "value"; value: unknown } | { kind: "error"; error: unknown } | { kind: "terminated"; reason: Termination };

interface Core {
  /** The call into the isolate in progress (setup, bundle or entry point), settled when its thread is done. */
  pending: Promise<unknown> | null;
  prepared: PreparedIsolate | null;
  isolate: ivm.Isolate | null;
  watchdog: Watchdog | null;
  terminated: Promise<Settled>;
  cancelRequested: boolean;
}

abstract class IsolateSession {
  protected readonly scrubber = new SecretScrubber();
  protected readonly events: RunEvents;
  protected readonly bridge: Bridge;
  protected readonly locator: BundleLocator;
  protected readonly core: Core;
  private resolveTerminated!: (s: Settled) => void;
  private finished = false;
  protected readonly started = performance.now();
  protected setupMs = 0;

  constructor(
    protected readonly deps: SessionDeps,
    protected readonly s: {
      mode: "run" | "describe";
      /** The run's id (null when describing a bundle). */
      runId: string | null;
      tenantId: string;
      policy: Policy;
      limits: PolicyLimits;
      dataDir: string;
      code: BundleEntry;
      filename: string;
      wallMs: number;
      cpuMs: number;
      emit: (event: SandboxEvent) => void;
      /** The run's resolved secrets (RunJob.secrets); absent: the deps' source (the environment). */
      secrets?: RunJobSecrets;
    },
  ) {
    this.events = new RunEvents(s.limits, this.scrubber, (e) => {
      if (!this.finished) s.emit(e);
    });
    const source = s.secrets ? new JobSecretSource(s.secrets, deps.secrets) : deps.secrets;
    const secrets = new RunSecrets(source, s.tenantId, s.policy, this.scrubber);
    this.bridge = new Bridge({
      mode: s.mode,
      runId: s.runId,
      policy: s.policy,
      limits: s.limits,
      dataDir: s.dataDir,
      events: this.events,
      secrets,
      scrubber: this.scrubber,
      connectors: deps.connectors,
    });
    this.locator = s.code.locator(s.filename);
    this.core = {
      pending: null,
      prepared: null,
      isolate: null,
      watchdog: null,
      cancelRequested: false,
      terminated: new Promise<Settled>((resolve) => (this.resolveTerminated = resolve)),
    };
  }

  /** Ends the isolate; the session then finishes with a `cancelled` outcome. */
  cancel(): void {
    this.core.cancelRequested = true;
    this.core.watchdog?.trip("cancelled");
  }

  /** Answers ready to go into the isolate, as `deliver`'s (id, answerJson) argument pairs. */
  private answers: Array<number | string> = [];

  private readonly handlers: DispatchHandlers = {
    onAsync: (id, op, payload) => {
      const answer = this.bridge.handle(op, payload);
      if (typeof id !== "number" || id === 0) return;
      void answer.then((text) => {
        // Answers that are ready in the same event-loop turn (a run's step.start/step.end arrive together)
        // go into the isolate in one `deliver` call: one task on the isolate's thread instead of one each.
        this.answers.push(id, text);
        if (this.answers.length === 2) setImmediate(this.deliverAnswers);
      });
    },
    onSync: (op, payload) => this.bridge.handleSync(op, payload),
  };

  private readonly deliverAnswers = (): void => {
    const args = this.answers;
    this.answers = [];
    const prepared = this.core.prepared;
    if (!prepared || this.core.watchdog?.terminated || args.length === 0) return;
    try {
      prepared.entry.deliver.applyIgnored(undefined, args, { arguments: { copy: true } });
    } catch {
      // the isolate is gone
    }
  };

  /** Sets up the isolate and evaluates the bundle. Returns a terminal Settled if that already failed. */
  protected async setUp(): Promise<Settled | null> {
    const setup = (async (): Promise<Settled | null> => {
      try {
        this.core.prepared = await this.deps.guest.prepare(this.s.limits.memoryMb, this.handlers, (isolate) => {
          this.core.isolate = isolate;
          const watchdog = new Watchdog(isolate, { wallMs: this.s.wallMs, cpuMs: this.s.cpuMs });
          this.core.watchdog = watchdog;
          watchdog.onTrip((reason) => this.resolveTerminated({ kind: "terminated", reason }));
          if (this.core.cancelRequested) watchdog.trip("cancelled");
        });
      } catch (err) {
        const reason = this.core.watchdog?.classify(err);
        if (reason) return { kind: "terminated", reason };
        return { kind: "error", error: new SetupError(err) };
      }
      try {
        await this.deps.guest.evaluateBundle(this.core.prepared, this.s.code);
      } catch (err) {
        const reason = this.core.watchdog?.classify(err);
        if (reason) return { kind: "terminated", reason };
        return { kind: "error", error: err };
      }
      return null;
    })();
    this.core.pending = setup;
    const result = await Promise.race([setup, this.core.terminated]);
    this.setupMs = performance.now() - this.started;
    return result;
  }

  /** Calls a guest entry point and waits for its string answer, a limit, or a cancel. */
  protected async callGuest(ref: ivm.Reference, args: string[]): Promise<Settled> {
    const call = ref
      .apply(undefined, args, { arguments: { copy: true }, result: { promise: true } })
      .then(
        (value: unknown): Settled => ({ kind: "value", value }),
        (error: unknown): Settled => {
          const reason = this.core.watchdog?.classify(error);
          return reason ? { kind: "terminated", reason } : { kind: "error", error };
        },
      );
    this.core.pending = call;
    return Promise.race([call, this.core.terminated]);
  }

  /** Whether the isolate's thread did not stop after it was disposed (set by tearDown). */
  wedged = false;

  /** Ends steps, closes connectors, disposes the isolate. Returns the isolate's CPU time in ms. */
  protected async tearDown(runErr: { code: ErrorCode; message: string } | null): Promise<number> {
    const watchdog = this.core.watchdog;
    watchdog?.stop();
    let cpuMs = 0;
    const isolate = this.core.isolate;
    try {
      if (isolate && !isolate.isDisposed) cpuMs = Number(isolate.cpuTime) / 1e6;
    } catch {
      // disposed
    }
    this.events.closeAll(runErr);
    this.finished = true;
    // Dispose first: nothing in the guest may act on the connectors while they close.
    try {
      if (isolate && !isolate.isDisposed) isolate.dispose();
    } catch {
      // already disposed
    }
    this.core.prepared = null;
    const pending = this.core.pending;
    const [, stopped] = await Promise.all([
      withTimeout(this.bridge.end().then(() => true), CLOSE_GRACE_MS, false),
      pending ? withTimeout(pending.then(() => true, () => true), TERMINATION_GRACE_MS, false) : Promise.resolve(true),
    ]);
    this.wedged = !stopped;
    return cpuMs;
  }

  protected terminationError(reason: Termination): RunError {
    const step = this.events.innermostStep();
    const code = TERMINATION_CODES[reason];
    const l = this.s.limits;
    const details: Record<string, unknown> =
      reason === "timeout"
        ? { wallSec: this.s.wallMs / 1000 }
        : reason === "cpu"
          ? { cpuSec: this.s.cpuMs / 1000 }
          : reason === "memory"
            ? { memoryMb: l.memoryMb }
            : {};
    return runError(code, null, { step, details });
  }

  protected errorFromThrown(err: unknown): RunError {
    if (err instanceof SetupError) {
      process.stderr.write(`tau executor: isolate setup failed: ${String((err.inner as Error)?.stack ?? err.inner)}\n`);
      return runError("TAU_E_INTERNAL", "The sandbox could not be set up for this run.", { details: { reason: "setup" } });
    }
    return runErrorFromThrown(err, this.locator, this.scrubber, this.events.innermostStep());
  }
}

class SetupError extends Error {
  constructor(readonly inner: unknown) {
    super("isolate setup failed");
  }
}

// ── runs ─────────────────────────────────────────────────────────────────────────────────────────────

export class RunSession extends IsolateSession {
  constructor(
    deps: SessionDeps,
    private readonly job: RunJobWithoutCode,
    code: BundleEntry,
    emit: (event: SandboxEvent) => void,
  ) {
    const limits = job.policy.limits;
    super(deps, {
      mode: "run",
      runId: job.runId,
      tenantId: job.tenantId,
      policy: job.policy,
      limits,
      dataDir: job.dataDir,
      code,
      filename: job.filename,
      wallMs: wallSecFor(limits, job.timeoutSec) * 1000,
      cpuMs: limits.cpuSec * 1000,
      emit,
      secrets: job.secrets,
    });
  }

  async run(): Promise<{ outcome: RunOutcome; stats: RunStats }> {
    let settled = await this.setUp();
    if (!settled) {
      const init = JSON.stringify({
        runId: this.job.runId,
        pipeline: this.job.pipeline,
        params: this.job.params ?? {},
        lastSuccessfulRun: this.job.lastSuccessfulRun ?? null,
      });
      settled = await this.callGuest(this.core.prepared!.entry.run, [init]);
    }
    const outcome = this.outcomeOf(settled);
    const err = outcome.status === "succeeded" ? null : outcome.error;
    const cpuMs = await this.tearDown(err);
    return { outcome, stats: { setupMs: round(this.setupMs), wallMs: round(performance.now() - this.started), cpuMs: round(cpuMs) } };
  }

  private outcomeOf(settled: Settled): RunOutcome {
    if (settled.kind === "terminated") {
      const error = this.terminationError(settled.reason);
      return settled.reason === "cancelled" ? { status: "cancelled", error } : { status: "failed", error };
    }
    if (settled.kind === "error") return { status: "failed", error: this.errorFromThrown(settled.error) };
    const l = this.s.limits;
    if (typeof settled.value !== "string") {
      return { status: "failed", error: runError("TAU_E_PIPELINE_RESULT_INVALID", "The guest runtime answered the run with something other than JSON text.") };
    }
    // The envelope may hold an error with its stack; allow for it on top of the result limit.
    const parsed = parseGuardedJson(settled.value, { maxBytes: l.resultBytes + 64 * 1024, maxDepth: l.jsonDepth + 1 }, "run result");
    if (!parsed.ok) {
      return { status: "failed", error: runError("TAU_E_PIPELINE_RESULT_INVALID", parsed.problem.message, { details: parsed.problem.details, step: null }) };
    }
    const answer = parsed.value;
    if (!isJsonObject(answer)) {
      return { status: "failed", error: runError("TAU_E_PIPELINE_RESULT_INVALID", "The guest runtime's answer is not an object.") };
    }
    if (answer.ok === true) {
      const result = this.scrubber.scrubValue(answer.result === undefined ? null : answer.result);
      const text = stringifyGuarded(result, { maxBytes: l.resultBytes, maxDepth: l.jsonDepth }, "pipeline's result");
      if (!text.ok) return { status: "failed", error: runError("TAU_E_PIPELINE_RESULT_INVALID", text.problem.message, { details: text.problem.details }) };
      return { status: "succeeded", result };
    }
    return { status: "failed", error: runErrorFromGuest(answer.error, this.locator, this.scrubber, this.events.innermostStep()) };
  }
}

// ── describe (deploy time) ───────────────────────────────────────────────────────────────────────────

export interface DescribeRequest {
  bundle: string;
  sourceMap: string;
  filename: string;
  policy: Policy;
}

export class DescribeSession extends IsolateSession {
  constructor(deps: SessionDeps, req: DescribeRequest) {
    const limits = req.policy.limits;
    super(deps, {
      mode: "describe",
      runId: null,
      tenantId: "describe",
      policy: req.policy,
      limits,
      dataDir: "",
      code: new BundleEntry(req.bundle, req.sourceMap),
      filename: req.filename,
      wallMs: Math.min(DESCRIBE_LIMITS.wallMs, limits.wallSec * 1000),
      cpuMs: Math.min(DESCRIBE_LIMITS.cpuMs, limits.cpuSec * 1000),
      emit: () => undefined, // deploy-time logs go nowhere
    });
  }

  async describe(): Promise<RawDescribeOutcome> {
    let settled = await this.setUp();
    if (!settled) settled = await this.callGuest(this.core.prepared!.entry.describe, []);
    const outcome = this.outcomeOf(settled);
    await this.tearDown(outcome.ok ? null : outcome.error);
    return outcome;
  }

  private outcomeOf(settled: Settled): RawDescribeOutcome {
    if (settled.kind === "terminated") return { ok: false, error: this.terminationError(settled.reason) };
    if (settled.kind === "error") return { ok: false, error: this.errorFromThrown(settled.error) };
    const parsed = parseGuardedJson(settled.value, { maxBytes: 256 * 1024, maxDepth: 16 }, "pipeline meta");
    if (!parsed.ok || !isJsonObject(parsed.value)) {
      return {
        ok: false,
        error: runError("TAU_E_DEPLOY_META_INVALID", parsed.ok ? "The pipeline's meta is not an object." : parsed.problem.message, { details: { field: null } }),
      };
    }
    const answer = parsed.value;
    if (answer.ok === true) return { ok: true, meta: answer.meta };
    return { ok: false, error: runErrorFromGuest(answer.error, this.locator, this.scrubber, null) };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
