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

const HEAD = `import { pipeline } from "tau";\nimport { duckdb_local } from "tau/connectors";\n`;

function statuses(h: GuestHarness): Record<string, string | null> {
  return Object.fromEntries(h.steps().map((s) => [s.name, s.status]));
}

describe("steps, callback form", () => {
  test("a step resolves to its function's value and reports rows and meta", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  const n = await ctx.step("extract", async (step) => {
    step.rowsIn = 10;
    step.rowsOut = 7;
    step.meta = { table: "orders", filters: ["a"] };
    step.log("inside", { k: 1 });
    return 7;
  });
  return { n };
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: { n: 7 } });
    const [step] = h.steps();
    expect(step).toMatchObject({ name: "extract", id: 1, status: "succeeded" });
    expect(step!.end).toEqual({ id: 1, status: "succeeded", rowsIn: 10, rowsOut: 7, meta: { table: "orders", filters: ["a"] } });
    expect(h.logs()).toEqual([{ level: "info", message: "inside", step: "extract", fields: { k: 1 } }]);
  });

  test("a failing nested step fails itself and its parent, and the run names the inner step and the throwing line", async () => {
    const source = `${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await ctx.step("outer", async () => {
    await ctx.step("inner", async () => {
      throw new Error("inner broke"); // <- throw
    });
  });
});
`;
    const h = await harness(source);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { message: "inner broke", step: "inner" } });
    expect(statuses(h)).toEqual({ outer: "failed", inner: "failed" });
    expect(h.steps()[1]!.end!.error).toEqual({ name: "Error", message: "inner broke" });
    expect(locateGuestError(answer.error!.stack, h.compiled.sourceMap)?.line).toBe(lineOf(source, "<- throw"));
  });

  test("a step's error that the pipeline catches leaves the step failed and the run succeeded", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  try {
    await ctx.step("flaky", async () => { throw new Error("nope"); });
  } catch {
    ctx.log.warn("recovered");
  }
  return await ctx.step("after", async () => "fine");
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: "fine" });
    expect(statuses(h)).toEqual({ flaky: "failed", after: "succeeded" });
  });

  test("concurrent steps get distinct ids, and a host error is attributed to the step whose call failed", async () => {
    // b starts after a, so b is the innermost open step when a's failing call is made; b then finishes
    // before that call's answer arrives (the host answers on a later turn of its event loop).
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using db = duckdb_local();
  await db.extract("SELECT 0");
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let bStarted = (): void => undefined;
  const bIsOpen = new Promise<void>((resolve) => { bStarted = resolve; });
  await Promise.all([
    ctx.step("a", async () => {
      await bIsOpen;
      const failing = db.extract("SELECT * FROM no_such_table");
      release();
      await failing;
    }),
    ctx.step("b", async () => {
      bStarted();
      await gate;
    }),
  ]);
});
`);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { code: "TAU_E_CONNECTOR_QUERY_FAILED", step: "a" } });
    const steps = h.steps();
    expect(steps.map((s) => s.id)).toEqual([1, 2]);
    expect(statuses(h)).toEqual({ a: "failed", b: "succeeded" });
    expect(steps.find((s) => s.name === "a")!.end!.error).toMatchObject({ name: "TauSdkError", code: "TAU_E_CONNECTOR_QUERY_FAILED" });
  });

  test("bad step names, row counts and meta throw TAU_E_STEP_INVALID where they are used", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  const codes: string[] = [];
  const attempt = async (f: () => unknown): Promise<void> => {
    try {
      await f();
      codes.push("ok");
    } catch (err) {
      codes.push((err as { code?: string }).code ?? "none");
    }
  };
  await attempt(() => ctx.step("", async () => 1));
  await attempt(() => ctx.step("  "));
  await attempt(() => ctx.step("s", 5 as never));
  await attempt(() => ctx.step("rows", async (step) => { step.rowsOut = -1; }));
  await attempt(() => ctx.step("rows2", async (step) => { step.rowsIn = 1.5; }));
  await attempt(() => ctx.step("meta", async (step) => { step.meta = [] as never; }));
  await attempt(() => ctx.step("ok", async (step) => { step.rowsOut = null; step.rowsIn = 3; }));
  return codes;
});
`);
    expect((await h.run()).answer).toEqual({
      ok: true,
      result: ["TAU_E_STEP_INVALID", "TAU_E_STEP_INVALID", "TAU_E_STEP_INVALID", "TAU_E_STEP_INVALID", "TAU_E_STEP_INVALID", "TAU_E_STEP_INVALID", "ok"],
    });
  });
});

describe("steps, disposable form (await using)", () => {
  test("a disposed step ends succeeded at the next SDK call, after the steps it enclosed", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  {
    await using load = ctx.step("load");
    load.rowsIn = 5;
    await ctx.step("inner", async () => 1);
  }
  ctx.log("after the block");
  return "done";
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: "done" });
    expect(statuses(h)).toEqual({ load: "succeeded", inner: "succeeded" });
    const order = h.ops.map((o) => `${o.op}:${String(o.payload.name ?? o.payload.id ?? o.payload.message)}`);
    expect(order).toEqual(["step.start:load", "step.start:inner", "step.end:2", "step.end:1", "log:after the block"]);
    expect(h.steps()[0]!.end).toMatchObject({ rowsIn: 5, rowsOut: null });
  });

  test("a disposed step in which the run fails is the failed step, even when a connector closes while unwinding", async () => {
    const source = `${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using db = duckdb_local();
  await db.execute("CREATE TABLE t (id INTEGER)");
  await using load = ctx.step("load");
  await db.load([{ id: 1, nope: 2 }], { table: "t" }); // <- load
  return "unreachable";
});
`;
    const h = await harness(source);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { code: "TAU_E_CONNECTOR_QUERY_FAILED", step: "load" } });
    expect(statuses(h)).toEqual({ load: "failed" });
    expect(h.ofOp("connector.close")).toHaveLength(1);
    expect(locateGuestError(answer.error!.stack, h.compiled.sourceMap)?.line).toBe(lineOf(source, "<- load"));
  });

  test("a plain error thrown in sequential disposable steps is given to the innermost one", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using a = ctx.step("a");
  a.rowsOut = 1;
  await using b = ctx.step("b");
  b.rowsIn = 1;
  JSON.parse("{not json");
});
`);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { name: "SyntaxError", step: "b" } });
    // a was still in scope (await using lasts to the end of its block), so it failed with b.
    expect(statuses(h)).toEqual({ a: "failed", b: "failed" });
  });

  test("an error caught outside a disposable step's block leaves the step succeeded once the pipeline goes on", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  try {
    await using s = ctx.step("s");
    throw new Error("handled");
  } catch {
    ctx.log("recovered");
  }
  return "ok";
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: "ok" });
    expect(statuses(h)).toEqual({ s: "succeeded" });
  });

  test("using (sync dispose) works as well as await using", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  {
    using s = ctx.step("sync");
    s.rowsOut = 2;
  }
  return await ctx.step("next", async () => 1);
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: 1 });
    expect(statuses(h)).toEqual({ sync: "succeeded", next: "succeeded" });
  });

  test("a step never disposed is ended at run end: succeeded when the run succeeds, failed when it fails", async () => {
    const ok = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => { const s = ctx.step("left-open"); s.rowsOut = 1; return 1; });\n`);
    expect((await ok.run()).answer.ok).toBe(true);
    expect(statuses(ok)).toEqual({ "left-open": "succeeded" });
    const bad = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => { ctx.step("left-open"); throw new Error("x"); });\n`);
    expect((await bad.run()).answer).toMatchObject({ ok: false, error: { step: "left-open" } });
    expect(statuses(bad)).toEqual({ "left-open": "failed" });
  });

  test("a step.start the host refuses is thrown at the pipeline's next SDK call", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using db = duckdb_local();
  ctx.step("refused");
  try {
    await db.extract("SELECT 1");
    return "not thrown";
  } catch (err) {
    return (err as { code: string }).code;
  }
});
`, { refuseSteps: ["refused"] });
    expect((await h.run()).answer).toEqual({ ok: true, result: "TAU_E_STEP_INVALID" });
  });

  test("a step.start the host refuses fails a run that makes no further SDK call", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => { await using s = ctx.step("refused"); return 1; });\n`, {
      refuseSteps: ["refused"],
    });
    expect((await h.run()).answer).toMatchObject({ ok: false, error: { code: "TAU_E_STEP_INVALID" } });
  });
});
