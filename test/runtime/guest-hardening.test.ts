import { afterEach, describe, expect, test } from "vitest";
import { GuestHarness, type HarnessOptions } from "./guest-harness";

const open: GuestHarness[] = [];
async function harness(source: string, options?: HarnessOptions): Promise<GuestHarness> {
  const h = await GuestHarness.create(source, options);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});

const HEAD = `import { pipeline } from "tau";\nimport { duckdb_local } from "tau/connectors";\n`;

describe("a pipeline that tampers with globals cannot break the runtime's answers", () => {
  test("replacing JSON.stringify and JSON.parse leaves results, logs, steps and connector calls well-formed", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  JSON.stringify = () => "hacked";
  JSON.parse = () => ({ hacked: true });
  await using db = duckdb_local();
  ctx.log("after patch", { a: 1 });
  const rows = await ctx.step("s", async (step) => {
    step.rowsOut = 1;
    return await db.extract<{ one: number }>("SELECT 1 AS one");
  });
  return { rows, answer: 42 };
});
`);
    const { text } = await h.run();
    expect(text).toBe('{"ok":true,"result":{"rows":[{"one":1}],"answer":42}}');
    expect(h.logs()).toEqual([{ level: "info", message: "after patch", step: null, fields: { a: 1 } }]);
    expect(h.steps()).toMatchObject([{ name: "s", status: "succeeded", end: { rowsOut: 1 } }]);
  });

  test("replacing Promise.prototype.then still yields a well-formed answer string", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  const original = Promise.prototype.then;
  let calls = 0;
  Promise.prototype.then = function (this: Promise<unknown>, ...args: unknown[]) {
    calls++;
    throw new Error("then is broken");
    return original.apply(this, args as never);
  } as never;
  ctx.log("patched");
  const value = await ctx.step("s", async () => 7);
  return { value, calls };
});
`);
    const { text, answer } = await h.run();
    expect(answer).toEqual({ ok: true, result: { value: 7, calls: 0 } });
    expect(text).toBe('{"ok":true,"result":{"value":7,"calls":0}}');
    expect(h.steps()).toMatchObject([{ name: "s", status: "succeeded" }]);
  });

  test("a failing run still answers a well-formed error after Promise.prototype.then and JSON.stringify are patched", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  Promise.prototype.then = (() => { throw new Error("then is broken"); }) as never;
  JSON.stringify = () => { throw new Error("stringify is broken"); };
  await ctx.step("s", async () => { throw new Error("real failure"); });
});
`);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { name: "Error", message: "real failure", step: "s" } });
  });

  test("patching Array, Map, WeakMap and Object prototypes does not disturb steps or errors", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  Array.prototype.push = () => { throw new Error("push is broken"); };
  Array.prototype.splice = () => { throw new Error("splice is broken"); };
  Array.prototype.indexOf = () => -1;
  (Array.prototype as unknown as Record<symbol, unknown>)[Symbol.iterator] = () => { throw new Error("iterator is broken"); };
  Map.prototype.get = () => undefined;
  WeakMap.prototype.get = () => undefined;
  WeakMap.prototype.set = () => { throw new Error("set is broken"); };
  String.prototype.slice = () => "sliced";
  Object.freeze = <T,>(o: T): T => o;
  // Disposed explicitly: esbuild's lowering of \`await using\` itself calls Array.prototype.push.
  const a = ctx.step("a");
  await ctx.step("b", async (step) => { step.meta = { ok: true }; });
  await a[Symbol.asyncDispose]();
  await ctx.step("c", async () => { throw new TypeError("expected"); });
});
`);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { name: "TypeError", message: "expected", step: "c" } });
    expect(h.steps().map((s) => [s.name, s.status])).toEqual([
      ["a", "succeeded"],
      ["b", "succeeded"],
      ["c", "failed"],
    ]);
  });

  test("replacing the Map and WeakMap constructors at the top level of the file does not disturb steps", async () => {
    const h = await harness(`${HEAD}
(globalThis as Record<string, unknown>).WeakMap = class { get() { return undefined; } set() { throw new Error("fake WeakMap"); } };
(globalThis as Record<string, unknown>).Map = class { get() { return undefined; } set() { throw new Error("fake Map"); } };
export default pipeline({ name: "x" }, async (ctx) => await ctx.step("s", async () => "fine"));
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: "fine" });
    expect(h.steps()).toMatchObject([{ name: "s", status: "succeeded" }]);
  });

  test("an Object.prototype.toJSON cannot change the shape of the run's answer", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async () => {
  Object.defineProperty(Object.prototype, "toJSON", { value: () => "reshaped", configurable: true });
  throw new Error("real failure");
});
`);
    const { text } = await h.run();
    expect(JSON.parse(text)).toMatchObject({ ok: false, error: { name: "Error", message: "real failure" } });
  });

  test("an error object whose getters throw is still reported", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async () => {
  const err = new Error("hidden");
  Object.defineProperty(err, "message", { get() { throw new Error("no message for you"); } });
  Object.defineProperty(err, "stack", { get() { throw new Error("no stack for you"); } });
  throw err;
});
`);
    const { answer } = await h.run();
    expect(answer).toEqual({ ok: false, error: { name: "Error", message: expect.any(String), stack: "" } });
  });

  test("the SDK objects the bundle imports cannot be replaced", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async () => {
  const sdk = (globalThis as unknown as { __tau_sdk: { core: Record<string, unknown> } }).__tau_sdk;
  const attempts: string[] = [];
  try { sdk.core.pipeline = () => null; attempts.push("replaced"); } catch { attempts.push("refused"); }
  try { (globalThis as Record<string, unknown>).__tau_sdk = {}; attempts.push("replaced"); } catch { attempts.push("refused"); }
  return attempts;
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: ["refused", "refused"] });
  });
});
