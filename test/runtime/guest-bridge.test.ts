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

const HEAD = `import { pipeline, TauSdkError } from "tau";\nimport { duckdb_local } from "tau/connectors";\n`;

describe("logs", () => {
  test("ctx.log writes run-level lines at each level, step.log tags its step, console.log goes to the log", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  ctx.log("plain", { n: 1 });
  ctx.log.debug("d");
  ctx.log.info("i");
  ctx.log.warn("w");
  ctx.log.error("e", { err: new TypeError("bad type"), big: 10n });
  await ctx.step("s", async (step) => step.log.warn("in step"));
  console.log("from console", { a: [1] }, 3);
  console.error("console error");
});
`);
    await h.run();
    expect(h.logs()).toEqual([
      { level: "info", message: "plain", step: null, fields: { n: 1 } },
      { level: "debug", message: "d", step: null },
      { level: "info", message: "i", step: null },
      { level: "warn", message: "w", step: null },
      { level: "error", message: "e", step: null, fields: { err: { name: "TypeError", message: "bad type" }, big: "10" } },
      { level: "warn", message: "in step", step: "s" },
      { level: "info", message: 'from console {"a":[1]} 3', step: null },
      { level: "error", message: "console error", step: null },
    ]);
  });

  test("log fields that are not JSON become a note instead of failing the pipeline", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  ctx.log("cyclic", cyclic);
  return "still running";
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: "still running" });
    expect(h.logs()[0]!.fields).toEqual({ tauFieldsError: expect.stringContaining("not JSON-serialisable") });
  });
});

describe("secrets", () => {
  test("ctx.secret returns the marker after a synchronous host check; the value never enters the isolate", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => ctx.secret("WAREHOUSE_DSN"));\n`, {
      secrets: { WAREHOUSE_DSN: "postgres://user:hunter2@db/warehouse" },
    });
    const { text } = await h.run();
    expect(JSON.parse(text)).toEqual({ ok: true, result: "{{tau.secret:WAREHOUSE_DSN}}" });
    expect(text).not.toContain("hunter2");
    expect(h.ops.find((o) => o.op === "secret.check")).toEqual({ id: -1, op: "secret.check", payload: { name: "WAREHOUSE_DSN" } });
  });

  test("a missing secret throws a TauSdkError with the host's code, catchable by instanceof", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  try {
    ctx.secret("MISSING");
    return "no error";
  } catch (err) {
    return { isSdkError: err instanceof TauSdkError, code: (err as TauSdkError).code, hint: (err as TauSdkError).hint, details: (err as TauSdkError).details };
  }
});
`);
    expect((await h.run()).answer).toEqual({
      ok: true,
      result: { isSdkError: true, code: "TAU_E_SECRET_NOT_FOUND", hint: "hint for TAU_E_SECRET_NOT_FOUND", details: { name: "MISSING" } },
    });
  });

  test("an uncaught secret error fails the run with its code, the current step and the ctx.secret line", async () => {
    const source = `${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using connect = ctx.step("connect");
  const dsn = ctx.secret("MISSING"); // <- secret
  return dsn;
});
`;
    const h = await harness(source);
    const { answer } = await h.run();
    expect(answer).toMatchObject({
      ok: false,
      error: { name: "TauSdkError", code: "TAU_E_SECRET_NOT_FOUND", step: "connect", hint: "hint for TAU_E_SECRET_NOT_FOUND", details: { name: "MISSING" } },
    });
    expect(answer.error!.stack).toMatch(/^TauSdkError: No secret named MISSING\./);
    expect(locateGuestError(answer.error!.stack, h.compiled.sourceMap)).toEqual({ line: lineOf(source, "<- secret"), column: 19 });
  });
});

describe("connectors", () => {
  test("a duckdb_local handle opens lazily once, runs extract/load/execute/getSchema, and closes with await using", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using unused = duckdb_local("never-opened.duckdb");
  await using db = duckdb_local();
  await db.execute("CREATE TABLE orders (id INTEGER, day VARCHAR, amount DOUBLE)");
  const loaded = await db.load([{ id: 1, day: "2026-01-30", amount: 9.5 }, { id: 2, day: "2026-01-31", amount: 3 }], { table: "orders" });
  const replaced = await db.load([{ id: 3, day: "2026-01-31", amount: 1 }, { id: 4, day: "2026-01-31", amount: 2 }], { table: "orders", mode: "replace" });
  const rows = await db.extract<{ id: number; amount: number }>("SELECT id, amount FROM orders WHERE day = ? AND id > ? ORDER BY id", [new Date("2026-01-31T00:00:00Z").toISOString().slice(0, 10), 2n]);
  const { rowsAffected } = await db.execute("DELETE FROM orders WHERE id = ?", [3]);
  const schema = await db.getSchema("orders");
  return { kind: db.kind, loaded, replaced, rows, rowsAffected, schema };
});
`);
    expect((await h.run()).answer).toEqual({
      ok: true,
      result: {
        kind: "duckdb_local",
        loaded: 2,
        replaced: 2,
        rows: [
          { id: 3, amount: 1 },
          { id: 4, amount: 2 },
        ],
        rowsAffected: 1,
        schema: [
          { name: "id", type: "INTEGER", nullable: true },
          { name: "day", type: "VARCHAR", nullable: true },
          { name: "amount", type: "DOUBLE", nullable: true },
        ],
      },
    });
    expect(h.ofOp("connector.open")).toEqual([{ kind: "duckdb_local", options: {} }]);
    expect(h.ofOp("connector.close")).toEqual([{ handle: "h1" }]);
    expect(h.ofOp("connector.call").find((c) => c.method === "extract")).toEqual({
      handle: "h1",
      method: "extract",
      args: ["SELECT id, amount FROM orders WHERE day = ? AND id > ? ORDER BY id", ["2026-01-31", "2"]],
    });
  });

  test("a database error is a TauSdkError whose stack points at the failing call in the pipeline file", async () => {
    const source = `${HEAD}export default pipeline({ name: "x" }, async (ctx) => {
  await using db = duckdb_local();
  const rows = await ctx.step("extract", async () => {
    return await db.extract("SELECT * FROM missing_table"); // <- extract
  });
  return rows;
});
`;
    const h = await harness(source);
    const { answer } = await h.run();
    expect(answer).toMatchObject({ ok: false, error: { name: "TauSdkError", code: "TAU_E_CONNECTOR_QUERY_FAILED", step: "extract" } });
    expect(answer.error!.message).toContain("missing_table");
    const line = lineOf(source, "<- extract");
    expect(locateGuestError(answer.error!.stack, h.compiled.sourceMap)).toEqual({ line, column: source.split("\n")[line - 1]!.indexOf("db.extract") + 4 });
  });

  test("a connector the policy refuses fails each call with the host's code at that call", async () => {
    const source = `${HEAD}export default pipeline({ name: "x" }, async () => {
  const db = duckdb_local("/forbidden/place.duckdb");
  const codes: string[] = [];
  for (const sql of ["SELECT 1", "SELECT 2"]) {
    try {
      await db.extract(sql);
    } catch (err) {
      codes.push((err as TauSdkError).code);
    }
  }
  return codes;
});
`;
    const h = await harness(source);
    expect((await h.run()).answer).toEqual({ ok: true, result: ["TAU_E_POLICY_DENIED", "TAU_E_POLICY_DENIED"] });
    expect(h.ofOp("connector.open")).toHaveLength(1);
  });

  test("a handle used after close() or outside its await using block throws TAU_E_CONNECTOR_CLOSED", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async () => {
  let escaped;
  {
    await using db = duckdb_local();
    await db.extract("SELECT 1");
    escaped = db;
  }
  await escaped.close();
  try {
    await escaped.extract("SELECT 1");
    return "no error";
  } catch (err) {
    return (err as TauSdkError).code;
  }
});
`);
    expect((await h.run()).answer).toEqual({ ok: true, result: "TAU_E_CONNECTOR_CLOSED" });
    expect(h.ofOp("connector.close")).toHaveLength(1);
  });

  test("invalid connector arguments are refused in the guest with TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    const h = await harness(`${HEAD}export default pipeline({ name: "x" }, async () => {
  await using db = duckdb_local();
  const codes: string[] = [];
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
      codes.push("ok");
    } catch (err) {
      codes.push((err as TauSdkError).code);
    }
  };
  await attempt(() => db.extract(""));
  await attempt(() => db.extract("SELECT 1", "x" as never));
  await attempt(() => db.load({} as never, { table: "t" }));
  await attempt(() => db.load([], {} as never));
  await attempt(() => db.load([], { table: "t", mode: "upsert" as never }));
  await attempt(() => db.getSchema(""));
  await attempt(async () => duckdb_local(""));
  await attempt(() => db.extract("SELECT ?", [{ toJSON() { throw new Error("no"); } }] as never));
  return codes;
});
`);
    expect((await h.run()).answer).toEqual({
      ok: true,
      result: [
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_CONNECTOR_ARGS_INVALID",
        "TAU_E_BRIDGE_PAYLOAD_INVALID",
      ],
    });
    expect(h.ofOp("connector.call")).toHaveLength(0);
  });
});
