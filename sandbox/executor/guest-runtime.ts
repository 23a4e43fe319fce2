/**
 * Setting up one isolate for a run or a describe, per docs/bridge-protocol.md steps 1–5: fresh isolate and
 * context, the two dispatch functions installed as `ivm.Callback`s behind a host-written guard, the guest
 * runtime evaluated (compiled once per process: V8's code cache is reused across isolates since an
 * `ivm.Script` cannot cross them), References to `run`/`describe`/`deliver` taken on the host and
 * `__tau_entry` deleted, then the pipeline bundle evaluated as `pipeline.js`.
 */
import { readFileSync } from "node:fs";
import ivm from "isolated-vm";

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
  deliver: ivm.Reference<(id: number, answerJson: string) => void>;
}

export interface PreparedIsolate {
  isolate: ivm.Isolate;
  context: ivm.Context;
  entry: GuestEntry;
}

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

  constructor(readonly path: string) {
    this.source = readFileSync(path, "utf8");
  }

  /**
   * Creates the isolate and context, installs the bridge and evaluates the runtime. The caller owns the
   * isolate from the moment `onIsolate` is called (watchdogs start there) and must dispose it.
   */
  async prepare(memoryMb: number, handlers: DispatchHandlers, onIsolate: (isolate: ivm.Isolate) => void): Promise<PreparedIsolate> {
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(8, Math.floor(memoryMb)),
      onCatastrophicError: (message) => {
        // isolated-vm: V8 lost control of the isolate; the process must not go on. The pool sees the exit
        // and fails this executor's runs with TAU_E_SANDBOX_CRASHED.
        process.stderr.write(`tau executor: catastrophic isolate error: ${message}\n`);
        process.abort();
      },
    });
    onIsolate(isolate);
    const context = await isolate.createContext();
    const global = context.global;
    await global.set("__tau_dispatch", new ivm.Callback(handlers.onAsync, { ignored: true }));
    await global.set("__tau_dispatch_sync", new ivm.Callback(handlers.onSync));
    await context.eval(BOOTSTRAP, { filename: "tau-bootstrap.js" });

    const script = await this.compileRuntime(isolate);
    await script.run(context);
    script.release();

    const entryRef = (await global.get("__tau_entry", { reference: true })) as ivm.Reference<Record<string, unknown>>;
    if (entryRef.typeof !== "object") {
      throw new Error("the guest runtime did not define __tau_entry");
    }
    const entry: GuestEntry = {
      run: (await entryRef.get("run", { reference: true })) as GuestEntry["run"],
      describe: (await entryRef.get("describe", { reference: true })) as GuestEntry["describe"],
      deliver: (await entryRef.get("deliver", { reference: true })) as GuestEntry["deliver"],
    };
    entryRef.release();
    for (const [name, ref] of Object.entries(entry)) {
      if ((ref as ivm.Reference).typeof !== "function") throw new Error(`the guest runtime's __tau_entry.${name} is not a function`);
    }
    await global.delete("__tau_entry");
    return { isolate, context, entry };
  }

  /** Compiles and runs the pipeline bundle, so stacks read `pipeline.js:LINE:COL`. */
  async evaluateBundle(prepared: PreparedIsolate, bundle: string): Promise<void> {
    const script = await prepared.isolate.compileScript(bundle, { filename: "pipeline.js" });
    try {
      await script.run(prepared.context);
    } finally {
      script.release();
    }
  }

  private async compileRuntime(isolate: ivm.Isolate): Promise<ivm.Script> {
    // isolated-vm sets these on the script; its typings declare them only as a separate result type.
    type WithCache = ivm.Script & ivm.CachedDataResult & { cachedDataRejected?: boolean };
    if (this.cachedData) {
      const script = (await isolate.compileScript(this.source, { filename: "tau-runtime.js", cachedData: this.cachedData })) as WithCache;
      if (script.cachedDataRejected) this.cachedData = undefined;
      return script;
    }
    const script = (await isolate.compileScript(this.source, { filename: "tau-runtime.js", produceCachedData: true })) as WithCache;
    if (script.cachedData) this.cachedData = script.cachedData;
    return script;
  }
}
