/**
 * The guest runtime's bootstrap, built to dist/guest/runtime.js and evaluated in every isolate before the
 * pipeline bundle (docs/bridge-protocol.md, "Per-run lifecycle", step 3). It runs with nothing of the
 * pipeline's loaded yet, so everything it captures is pristine.
 */
import { deliver, installBridge, type DispatchFn, type DispatchSyncFn } from "./bridge";
import * as connectors from "./connectors";
import * as materializations from "./materializations";
import * as core from "./index";
import { describe, run } from "./entry";
import { TauSdkError } from "./errors";
import { installConsole } from "./console";
import {
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectKeys,
  asyncDisposeSymbol,
  disposeSymbol,
  globalObject,
} from "./primordials";

const g = globalObject as unknown as Record<string, unknown>;

// 1. The bridge: captured in the runtime's closure, then removed from the global.
const dispatch = g.__tau_dispatch;
const dispatchSync = g.__tau_dispatch_sync;
delete g.__tau_dispatch;
delete g.__tau_dispatch_sync;
if (typeof dispatch === "function" && typeof dispatchSync === "function") {
  installBridge(dispatch as DispatchFn, dispatchSync as DispatchSyncFn);
}

// 2. What the isolate's limits do not cover: WebAssembly memory is outside memoryLimit, Atomics.wait blocks.
delete g.WebAssembly;
delete g.SharedArrayBuffer;
delete g.Atomics;

// 3. `await using` as esbuild lowers it needs the disposal symbols, which Node 20's V8 lacks.
const symbolCtor = Symbol as unknown as Record<string, unknown>;
if (symbolCtor.asyncDispose === undefined) ObjectDefineProperty(Symbol, "asyncDispose", { value: asyncDisposeSymbol });
if (symbolCtor.dispose === undefined) ObjectDefineProperty(Symbol, "dispose", { value: disposeSymbol });

// 4. console.* writes to the run's log (V8's own console is silent in an isolate).
installConsole(g);

// 5. The SDK modules, frozen, for the bundle's `tau` shims; the entry points for the host.
function frozenModule(namespace: object): Readonly<Record<string, unknown>> {
  const copy: Record<string, unknown> = {};
  const keys = ObjectKeys(namespace);
  for (let i = 0; i < keys.length; i++) copy[keys[i]!] = (namespace as Record<string, unknown>)[keys[i]!];
  return ObjectFreeze(copy);
}
ObjectFreeze(TauSdkError.prototype);
ObjectFreeze(TauSdkError);
ObjectDefineProperty(g, "__tau_sdk", {
  value: ObjectFreeze({ core: frozenModule(core), connectors: frozenModule(connectors), materializations: frozenModule(materializations) }),
  writable: false,
  enumerable: false,
  configurable: false,
});
ObjectDefineProperty(g, "__tau_entry", {
  value: ObjectFreeze({ run, describe, deliver }),
  writable: false,
  enumerable: false,
  // The host deletes it once it holds References to the three functions.
  configurable: true,
});
