/**
 * Setting up one isolate for a run or a describe, per docs/bridge-protocol.md steps 1–5: fresh isolate and
 * context, the two dispatch functions installed as `ivm.Callback`s behind a host-written guard, the guest
 * runtime evaluated, References to `run`/`describe`/`deliver` taken on the host and `__tau_entry` deleted,
 * then the pipeline bundle evaluated as `pipeline.js`.
 *
 * What makes this cheap (docs/bridge-protocol.md, "Per-process caches"):
 * - Steps 1–4 run only Tau's own code (bootstrap and runtime), so they use isolated-vm's synchronous calls:
 *   no thread hop per call. Pipeline code (the bundle, `run`) is always entered asynchronously, under the
 *   watchdog.
 * - The runtime is compiled from a V8 code cache made once per process by `warmUp()`: a throwaway isolate
 *   evaluates the runtime and runs a built-in pipeline through it, then the runtime is compiled again in
 *   that isolate, which yields a cache holding the functions a run needs already compiled. No pipeline code
 *   ever runs in that isolate.
 * - While the executor is idle it prepares one spare isolate (steps 1–4) for the next run
 *   (`keepSpare`). A spare is used by exactly one run, and only by a run whose memory limit is the one it was
 *   made with; any other run gets a new isolate. It is still one fresh isolate per run: the spare has run
 *   nothing but the bootstrap and the runtime.
 * - A bundle's code cache is kept per bundle (keyed by the SHA-256 of its text, see `BundleEntry`) and is
 *   made when the bundle is compiled, before any of its code has run.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import ivm from "isolated-vm";
import { BundleLocator } from "./locate";

/** Host handlers behind the two dispatch functions. Neither may throw (they answer with error JSON). */
export interface DispatchHandlers {
  /** `__tau_dispatch(id, op, payload)`: fire and forget; the answer goes back through `deliver`. */
  onAsync(id: unknown, op: unknown, payload: unknown): void;
  /** `__tau_dispatch_sync(op, payload)`: returns the answer JSON. */
  onSync(op: unknown, payload: unknown): string;
}

export interface GuestEntry {
  run: ivm.Reference<(initJson: string) => Promise<string>>;
  describe: ivm.Reference<() => string>;
  /** `deliver(id, answerJson, id2, answerJson2, …)`: one or more answers. */
  deliver: ivm.Reference<(...pairs: Array<number | string>) => void>;
}

export interface PreparedIsolate {
  isolate: ivm.Isolate;
  context: ivm.Context;
  entry: GuestEntry;
  /** The memory limit (MB) the isolate was created with. */
  memoryMb: number;
  /** Routes the dispatch functions to a session's handlers (until then they answer "not ready"). */
  bind(handlers: DispatchHandlers): void;
}

/**
 * One pipeline version's code as an executor keeps it between runs: the bundle, its source map (parsed
 * lazily, once), and V8's code cache for the bundle. `key` is the SHA-256 of bundle and source map, computed
 * here from the text itself, so a cache entry can only ever serve the exact bundle it was made from.
 */
export class BundleEntry {
  readonly key: string;
  /** V8's code cache for `bundle`, made at its first compile (before any of its code ran). */
  cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;
  private locatorFor: { filename: string; locator: BundleLocator } | null = null;

  constructor(
    readonly bundle: string,
    readonly sourceMap: string,
  ) {
    this.key = bundleKey(bundle, sourceMap);
  }

  /** Bytes this entry holds (for the cache's bound). */
  get bytes(): number {
    return 2 * (this.bundle.length + this.sourceMap.length) + (this.cachedData ? 2 * this.bundle.length : 0);
  }

  locator(filename: string): BundleLocator {
    if (this.locatorFor?.filename !== filename) this.locatorFor = { filename, locator: new BundleLocator(this.sourceMap, filename) };
    return this.locatorFor.locator;
  }
}

/** The cache key of a bundle: SHA-256 over the bundle, a separator and its source map. */
export function bundleKey(bundle: string, sourceMap: string): string {
  return createHash("sha256").update(bundle).update("\0").update(sourceMap).digest("hex");
}

/** The not-yet-bound dispatch answer: a spare isolate runs no guest code, so this is never seen in practice. */
const NOT_BOUND = JSON.stringify({ ok: false, error: { code: "TAU_E_INTERNAL", message: "The sandbox is not ready.", hint: "", details: {} } });

/** A pipeline that exercises what a run uses (steps, logs, disposable steps), for `warmUp()`. */
const WARM_UP_BUNDLE = `"use strict";
var __tau_pipeline_module = (function () {
  var core = globalThis.__tau_sdk.core;
  return { default: core.pipeline({ name: "tau_warm_up" }, async function (ctx) {
    await ctx.step("a", async function (s) { s.rowsOut = 1; s.rowsIn = 0; s.log("x"); });
    await ctx.step("b", async function () {});
    var d = ctx.step("c");
    d.rowsIn = 1;
    await d[Symbol.asyncDispose]();
    ctx.log.info("y", { n: 1 });
    console.log("z");
    return { ok: true, n: [1, "2", null] };
  }) };
})();`;


/**
 * Runs in the guest before the runtime. The raw callbacks copy whatever they are given (structured clone);
 * this guard makes sure only strings and numbers ever reach them, so a guest object is never cloned into the
 * host (a shrunk resizable ArrayBuffer passed that way aborts the host on isolated-vm 5.0.4). The runtime
 * captures the guarded functions and deletes them from the global; the raw callbacks stay reachable only
 * through this closure.
 */
const BOOTSTRAP = `(function () {
  "use strict";
  var g = globalThis;
  var rawAsync = g.__tau_dispatch;
  var rawSync = g.__tau_dispatch_sync;
  var TE = TypeError;
  var define = Object.defineProperty;
  function __tau_dispatch(id, op, payload) {
    if (typeof id !== "number" || typeof op !== "string" || typeof payload !== "string") {
      throw new TE("tau bridge: dispatch takes (number, string, string); other values are refused");
    }
    rawAsync(id, op, payload);
  }
  function __tau_dispatch_sync(op, payload) {
    if (typeof op !== "string" || typeof payload !== "string") {
      throw new TE("tau bridge: dispatch_sync takes (string, string); other values are refused");
    }
    return rawSync(op, payload);
  }
  define(g, "__tau_dispatch", { value: __tau_dispatch, writable: true, configurable: true, enumerable: false });
  define(g, "__tau_dispatch_sync", { value: __tau_dispatch_sync, writable: true, configurable: true, enumerable: false });
})();`;

export class GuestRuntime {
  private readonly source: string;
  private cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;
  private spare: Spare | null = null;

  constructor(readonly path: string) {
    this.source = readFileSync(path, "utf8");
  }

  /**
   * Makes the runtime's code cache from a warm isolate (see the file comment). Safe to skip or to fail:
   * without it the cache is made at the first compile, as V8 makes it (top-level code only). Never rejects.
   */
  async warmUp(timeoutMs = 5000): Promise<boolean> {
    let isolate: ivm.Isolate | null = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      isolate = new ivm.Isolate({ memoryLimit: 64 });
      const context = isolate.createContextSync();
      const ok = JSON.stringify({ ok: true, value: {} });
      let deliver: GuestEntry["deliver"] | null = null;
      const handlers: DispatchHandlers = {
        onAsync: (id) => {
          if (typeof id !== "number" || id === 0) return;
          setImmediate(() => {
            try {
              deliver?.applyIgnored(undefined, [id, ok], { arguments: { copy: true } });
            } catch {
              // the warm-up isolate is gone
            }
          });
        },
        onSync: () => ok,
      };
      const prepared = this.setUpContext(isolate, context, 64, handlers);
      deliver = prepared.entry.deliver;
      isolate.compileScriptSync(WARM_UP_BUNDLE, { filename: "tau-warm-up.js" }).runSync(context);
      const init = JSON.stringify({ runId: "warm-up", pipeline: "tau_warm_up", params: {}, lastSuccessfulRun: null });
      const run = prepared.entry.run.apply(undefined, [init], { arguments: { copy: true }, result: { promise: true } });
      const answer = await Promise.race([run, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))]);
      if (typeof answer !== "string" || !answer.startsWith('{"ok":true')) return false;
      // Compiling the same source again in this isolate finds V8's compiled functions: the cache holds them.
      type WithCache = ivm.Script & ivm.CachedDataResult;
      const again = isolate.compileScriptSync(this.source, { filename: "tau-runtime.js", produceCachedData: true }) as WithCache;
      if (!again.cachedData) return false;
      this.cachedData = again.cachedData;
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      try {
        if (isolate && !isolate.isDisposed) isolate.dispose();
      } catch {
        // already disposed
      }
    }
  }

  /**
   * An isolate with the bridge installed and the runtime evaluated (steps 1–4), bound to `handlers`: the
   * spare when it was made with this memory limit, else a new one. The caller owns it (watchdogs start when
   * `onIsolate` is called) and must dispose it. Runs Tau's own code only; throws when that fails.
   */
  async prepare(memoryMb: number, handlers: DispatchHandlers, onIsolate: (isolate: ivm.Isolate) => void): Promise<PreparedIsolate> {
    const limit = memoryLimitOf(memoryMb);
    let prepared = this.takeSpare(limit);
    if (!prepared) {
      const isolate = this.newIsolate(limit);
      onIsolate(isolate);
      prepared = this.setUpContext(isolate, isolate.createContextSync(), limit, handlers);
    } else {
      onIsolate(prepared.isolate);
    }
    prepared.bind(handlers);
    return prepared;
  }

  /**
   * Starts preparing the spare isolate for the next run with this memory limit, unless there is one. Called
   * while the executor is idle. The work is done in three synchronous pieces (isolate, context, bridge and
   * runtime) with the event loop free in between, so a run that arrives meanwhile waits for at most one
   * piece: it takes the spare as far as it got and finishes it (`takeSpare`).
   */
  keepSpare(memoryMb: number): void {
    const limit = memoryLimitOf(memoryMb);
    if (this.spare?.memoryMb === limit) return;
    this.dropSpare();
    const spare: Spare = { memoryMb: limit, isolate: null, context: null, prepared: null, timer: null };
    this.spare = spare;
    const step = (): void => {
      spare.timer = null;
      if (this.spare !== spare) return;
      try {
        if (this.advanceSpare(spare)) spare.timer = setImmediate(step);
      } catch (err) {
        process.stderr.write(`tau executor: could not prepare a spare isolate: ${String((err as Error)?.message ?? err)}\n`);
        this.dropSpare();
      }
    };
    step();
  }

  /** Disposes the spare isolate, if any (shutdown, or a spare made for another memory limit). */
  dropSpare(): void {
    const spare = this.spare;
    this.spare = null;
    if (!spare) return;
    if (spare.timer) clearImmediate(spare.timer);
    disposeQuietly(spare.isolate);
  }

  /** One piece of the spare's preparation; true while pieces remain. */
  private advanceSpare(spare: Spare): boolean {
    if (!spare.isolate) {
      spare.isolate = this.newIsolate(spare.memoryMb);
      return true;
    }
    if (!spare.context) {
      spare.context = spare.isolate.createContextSync();
      return true;
    }
    if (!spare.prepared) spare.prepared = this.setUpContext(spare.isolate, spare.context, spare.memoryMb, null);
    return false;
  }

  /**
   * Compiles and runs the pipeline bundle, so stacks read `pipeline.js:LINE:COL`. The compile consumes the
   * entry's code cache, or makes it (at compile time: before any of the bundle's code has run).
   */
  async evaluateBundle(prepared: PreparedIsolate, code: BundleEntry): Promise<void> {
    type WithCache = ivm.Script & ivm.CachedDataResult & { cachedDataRejected?: boolean };
    const options = code.cachedData ? { filename: "pipeline.js", cachedData: code.cachedData } : { filename: "pipeline.js", produceCachedData: true };
    // Compiling runs none of the bundle's code (and bundles are size-capped at deploy), so it is done
    // synchronously; running it is not.
    const script = prepared.isolate.compileScriptSync(code.bundle, options) as WithCache;
    if (code.cachedData && script.cachedDataRejected) code.cachedData = undefined;
    else if (!code.cachedData && script.cachedData) code.cachedData = script.cachedData;
    try {
      await script.run(prepared.context);
    } finally {
      script.release();
    }
  }

  /** The spare, finished if it was still being prepared, when it was made with this limit; else null. */
  private takeSpare(limit: number): PreparedIsolate | null {
    const spare = this.spare;
    if (!spare || spare.memoryMb !== limit || spare.isolate?.isDisposed) {
      this.dropSpare();
      return null;
    }
    if (spare.timer) clearImmediate(spare.timer);
    spare.timer = null;
    try {
      while (this.advanceSpare(spare));
    } catch (err) {
      // The run gets a new isolate instead; the failure surfaces there if it is not the spare's own.
      process.stderr.write(`tau executor: could not prepare a spare isolate: ${String((err as Error)?.message ?? err)}\n`);
      this.dropSpare();
      return null;
    }
    this.spare = null;
    return spare.prepared;
  }

  private newIsolate(memoryLimit: number): ivm.Isolate {
    return new ivm.Isolate({
      memoryLimit,
      onCatastrophicError: (message) => {
        // isolated-vm: V8 lost control of the isolate; the process must not go on. The pool sees the exit
        // and fails this executor's runs with TAU_E_SANDBOX_CRASHED.
        process.stderr.write(`tau executor: catastrophic isolate error: ${message}\n`);
        process.abort();
      },
    });
  }

  /** Steps 2–4 on a new context, with synchronous calls: only Tau's bootstrap and runtime run here. */
  private setUpContext(isolate: ivm.Isolate, context: ivm.Context, memoryMb: number, handlers: DispatchHandlers | null): PreparedIsolate {
    const bound: { handlers: DispatchHandlers | null } = { handlers };
    const global = context.global;
    global.setSync(
      "__tau_dispatch",
      new ivm.Callback((id: unknown, op: unknown, payload: unknown) => bound.handlers?.onAsync(id, op, payload), { ignored: true }),
    );
    global.setSync("__tau_dispatch_sync", new ivm.Callback((op: unknown, payload: unknown) => (bound.handlers ? bound.handlers.onSync(op, payload) : NOT_BOUND)));
    context.evalSync(BOOTSTRAP, { filename: "tau-bootstrap.js" });

    const script = this.compileRuntime(isolate);
    script.runSync(context);
    script.release();

    const entryRef = global.getSync("__tau_entry", { reference: true }) as ivm.Reference<Record<string, unknown>>;
    if (entryRef.typeof !== "object") {
      throw new Error("the guest runtime did not define __tau_entry");
    }
    const entry: GuestEntry = {
      run: entryRef.getSync("run", { reference: true }) as GuestEntry["run"],
      describe: entryRef.getSync("describe", { reference: true }) as GuestEntry["describe"],
      deliver: entryRef.getSync("deliver", { reference: true }) as GuestEntry["deliver"],
    };
    entryRef.release();
    for (const [name, ref] of Object.entries(entry)) {
      if ((ref as ivm.Reference).typeof !== "function") throw new Error(`the guest runtime's __tau_entry.${name} is not a function`);
    }
    global.deleteSync("__tau_entry");
    return {
      isolate,
      context,
      entry,
      memoryMb,
      bind: (next) => {
        bound.handlers = next;
      },
    };
  }

  private compileRuntime(isolate: ivm.Isolate): ivm.Script {
    // isolated-vm sets these on the script; its typings declare them only as a separate result type.
    type WithCache = ivm.Script & ivm.CachedDataResult & { cachedDataRejected?: boolean };
    if (this.cachedData) {
      const script = isolate.compileScriptSync(this.source, { filename: "tau-runtime.js", cachedData: this.cachedData }) as WithCache;
      if (script.cachedDataRejected) this.cachedData = undefined;
      return script;
    }
    const script = isolate.compileScriptSync(this.source, { filename: "tau-runtime.js", produceCachedData: true }) as WithCache;
    if (script.cachedData) this.cachedData = script.cachedData;
    return script;
  }
}

/** The spare isolate while it is prepared piece by piece (`keepSpare`). */
interface Spare {
  memoryMb: number;
  isolate: ivm.Isolate | null;
  context: ivm.Context | null;
  prepared: PreparedIsolate | null;
  timer: NodeJS.Immediate | null;
}

function disposeQuietly(isolate: ivm.Isolate | null): void {
  try {
    if (isolate && !isolate.isDisposed) isolate.dispose();
  } catch {
    // already disposed
  }
}

function memoryLimitOf(memoryMb: number): number {
  return Math.max(8, Math.floor(memoryMb));
}
