import { afterEach, describe, expect, test } from "vitest";
import { locateGuestError } from "../../sandbox/source-map";
import { GuestHarness, lineOf, type HarnessOptions } from "./guest-harness";

const open: GuestHarness[] = [];
async function harness(source: string, options?: HarnessOptions): Promise<GuestHarness> {
  const h = await GuestHarness.create(source, options);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});

describe("the guest runtime's entry points", () => {
  test("describe() answers the default export's meta as declared", async () => {
    const h = await harness(`import { pipeline } from "tau";
export default pipeline(
  { name: "orders_sync", description: "Orders", schedule: "0 6 * * *", tags: ["warehouse"], dependsOn: ["customers"], timeoutSec: 60 },
  async () => 1,
);
`);
    const { answer } = await h.describe();
    expect(answer).toEqual({
      ok: true,
      meta: { name: "orders_sync", description: "Orders", schedule: "0 6 * * *", tags: ["warehouse"], dependsOn: ["customers"], timeoutSec: 60 },
    });
  });

  test("describe() and run() refuse a default export that only looks like a pipeline", async () => {
    const h = await harness(`export default { meta: { name: "fake" }, fn: async () => 1 };\n`, { typecheck: false });
    const described = await h.describe();
    expect(described.answer).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_NO_PIPELINE" } });
    const ran = await h.run();
    expect(ran.answer).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_NO_PIPELINE" } });
  });

  test("pipeline() called with a non-function is reported as TAU_E_DEPLOY_META_INVALID naming the field", async () => {
    const h = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, 42 as never);\n`);
    expect((await h.describe()).answer).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_META_INVALID", details: { field: "fn" } } });
  });

  test("run() resolves to the result as JSON, and undefined becomes null", async () => {
    const value = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => ({ loaded: 3, names: ["a", "b"], at: new Date(0) }));\n`);
    expect((await value.run()).text).toBe('{"ok":true,"result":{"loaded":3,"names":["a","b"],"at":"1970-01-01T00:00:00.000Z"}}');
    const nothing = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => {});\n`);
    expect((await nothing.run()).text).toBe('{"ok":true,"result":null}');
  });

  test("the context carries the run's id, pipeline, deep-frozen params and last successful run", async () => {
    const h = await harness(`import { pipeline } from "tau";
export default pipeline<{ day: string; nested: { n: number } }>({ name: "x" }, async (ctx) => {
  let mutated = "no";
  try {
    (ctx.params.nested as { n: number }).n = 2;
  } catch (err) {
    mutated = (err as Error).name;
  }
  return {
    runId: ctx.runId,
    pipeline: ctx.pipeline,
    day: ctx.params.day,
    n: ctx.params.nested.n,
    mutated,
    frozen: Object.isFrozen(ctx.params) && Object.isFrozen(ctx.params.nested),
    last: ctx.lastSuccessfulRun instanceof Date ? ctx.lastSuccessfulRun.toISOString() : null,
  };
});
`);
    const { answer } = await h.run({ runId: "r-42", pipeline: "x", params: { day: "2026-01-31", nested: { n: 1 } }, lastSuccessfulRun: "2026-01-30T06:00:00.000Z" });
    expect(answer).toEqual({
      ok: true,
      result: { runId: "r-42", pipeline: "x", day: "2026-01-31", n: 1, mutated: "TypeError", frozen: true, last: "2026-01-30T06:00:00.000Z" },
    });
  });

  test("the bootstrap hides the bridge, removes WebAssembly, SharedArrayBuffer and Atomics, and defines the disposal symbols", async () => {
    const h = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => 1);\n`);
    const seen = await h.evalGuest(`JSON.stringify({
      dispatch: typeof __tau_dispatch, dispatchSync: typeof __tau_dispatch_sync, entry: typeof __tau_entry,
      wasm: typeof WebAssembly, sab: typeof SharedArrayBuffer, atomics: typeof Atomics,
      asyncDispose: Symbol.asyncDispose === Symbol.for("Symbol.asyncDispose"), dispose: Symbol.dispose === Symbol.for("Symbol.dispose"),
      sdkFrozen: Object.isFrozen(__tau_sdk) && Object.isFrozen(__tau_sdk.core) && Object.isFrozen(__tau_sdk.connectors),
      sdkWritable: Object.getOwnPropertyDescriptor(globalThis, "__tau_sdk").writable,
    })`);
    expect(JSON.parse(seen as string)).toEqual({
      dispatch: "undefined",
      dispatchSync: "undefined",
      entry: "undefined",
      wasm: "undefined",
      sab: "undefined",
      atomics: "undefined",
      asyncDispose: true,
      dispose: true,
      sdkFrozen: true,
      sdkWritable: false,
    });
  });

  test("a thrown error fails the run with its name, message and a stack that maps to the throwing line", async () => {
    const source = `import { pipeline } from "tau";
export default pipeline({ name: "x" }, async (ctx) => {
  ctx.log("before");
  throw new RangeError("out of range"); // <- here
});
`;
    const h = await harness(source);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { name: "RangeError", message: "out of range" } });
    expect(answer.error).not.toHaveProperty("code");
    expect(answer.error).not.toHaveProperty("step");
    expect(locateGuestError(answer.error!.stack, h.compiled.sourceMap)).toEqual({ line: lineOf(source, "<- here"), column: 9 });
  });

  test("a result that is not JSON fails the run with TAU_E_PIPELINE_RESULT_INVALID", async () => {
    const cyclic = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => { const a: Record<string, unknown> = {}; a.self = a; return a; });\n`);
    expect((await cyclic.run()).answer).toMatchObject({ ok: false, error: { code: "TAU_E_PIPELINE_RESULT_INVALID" } });
    const fn = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => () => 1);\n`);
    expect((await fn.run()).answer).toMatchObject({ ok: false, error: { code: "TAU_E_PIPELINE_RESULT_INVALID" } });
  });

  test("BigInt values in the result are stored as decimal strings", async () => {
    const h = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => ({ big: 2n ** 70n }));\n`);
    expect((await h.run()).answer).toEqual({ ok: true, result: { big: "1180591620717411303424" } });
  });

  test("throwing a non-error value still yields a well-formed failure", async () => {
    const h = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async () => { throw "plain string"; });\n`);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { name: "Error", message: "Pipeline threw a non-error value: plain string" } });
  });

  test("run() answers a second call in the same sandbox with an error instead of running twice", async () => {
    const h = await harness(`import { pipeline } from "tau";\nexport default pipeline({ name: "x" }, async (ctx) => { ctx.log("ran"); return 1; });\n`);
    expect((await h.run()).answer.ok).toBe(true);
    expect((await h.run()).answer).toMatchObject({ ok: false, error: { code: "TAU_E_INTERNAL" } });
    expect(h.logs().filter((l) => l.message === "ran")).toHaveLength(1);
  });
});
