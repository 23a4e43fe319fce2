import { DuckDBInstance } from "@duckdb/node-api";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPackageRoot } from "../../sandbox/package-root";
import { ExecutorPool } from "../../sandbox/pool";
import type { RunOutcome } from "../../sandbox/types";
import { pipelineFile, policyWith, requireBuild, runSource, tempDir, useHostilePool } from "./helpers";

function resultOf(outcome: RunOutcome): unknown {
  if (outcome.status !== "succeeded") throw new Error(`run ${outcome.status}: ${JSON.stringify(outcome.error)}`);
  return outcome.result;
}

describe("the bridge through the real guest runtime", () => {
  const dir = tempDir();
  let pool: ExecutorPool;

  beforeAll(async () => {
    requireBuild();
    pool = new ExecutorPool({ size: 1, onStderr: () => undefined });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
    dir.remove();
  });

  it("no host object, Reference, ExternalCopy, Callback or the ivm module is reachable from the guest's global object graph", async () => {
    // Walks everything reachable from globalThis (own properties incl. symbols and accessors, prototypes,
    // function closures' visible properties) and reports anything that is not an ordinary guest value.
    const source = pipelineFile(`
  const seen = new Set<unknown>();
  const queue: Array<[unknown, string]> = [[globalThis, "globalThis"]];
  const suspicious: string[] = [];
  const hostNames = /^(Reference|ExternalCopy|Callback|Isolate|Context|Script|Module|NativeModule|Dereference|Copy)$/;
  let visited = 0;
  while (queue.length > 0) {
    const [value, path] = queue.shift()!;
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) continue;
    seen.add(value);
    visited++;
    let ctorName = "";
    try { ctorName = (value as any).constructor?.name ?? ""; } catch {}
    if (hostNames.test(ctorName)) suspicious.push(path + " is a " + ctorName);
    if (typeof value === "function") {
      const text = Function.prototype.toString.call(value);
      if (/ivm|Callback|isolated/i.test(text)) suspicious.push(path + " looks like a host callback: " + text.slice(0, 80));
    }
    const keys = Reflect.ownKeys(value as object);
    for (const key of ["Isolate", "Reference", "ExternalCopy", "Callback"]) {
      if (keys.includes(key)) suspicious.push(path + " has " + key + " (the ivm module?)");
    }
    for (const key of keys) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (!d) continue;
      const name = path + "." + String(key);
      if ("value" in d) queue.push([d.value, name]);
      if (d.get) queue.push([d.get, name + "<get>"]);
      if (d.set) queue.push([d.set, name + "<set>"]);
    }
    queue.push([Object.getPrototypeOf(value), path + ".__proto__"]);
  }
  const g = globalThis as any;
  const globals = ["require", "process", "fetch", "setTimeout", "setInterval", "WebAssembly", "SharedArrayBuffer", "Atomics",
    "__tau_dispatch", "__tau_dispatch_sync", "__tau_entry", "Buffer", "module", "exports"];
  return { visited, suspicious, present: globals.filter((k) => typeof g[k] !== "undefined") };`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    const result = resultOf(outcome) as { visited: number; suspicious: string[]; present: string[] };
    expect(result.suspicious).toEqual([]);
    expect(result.present).toEqual([]);
    expect(result.visited).toBeGreaterThan(500); // the walk reached the built-ins and the SDK
  });

  it("host stacks and host file paths are stripped from a connector error caused by a bad path", async () => {
    const source = pipelineFile(`
  try {
    await using db = duckdb_local("/nonexistent-tau-dir/deeper/warehouse.duckdb");
    await db.extract("SELECT 1");
    return "opened?";
  } catch (err: any) {
    return { code: err.code, message: err.message, hint: err.hint, details: err.details };
  }`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    const answer = resultOf(outcome) as { code: string; message: string; hint: string; details: unknown };
    expect(answer.code).toBe("TAU_E_CONNECTOR_IO");
    expect(answer.message).toContain("/nonexistent-tau-dir/deeper/warehouse.duckdb"); // the path the pipeline gave is its own
    const text = JSON.stringify(answer);
    expect(text).not.toContain(findPackageRoot());
    expect(text).not.toContain("node_modules");
    expect(text).not.toMatch(/\n\s*at\s/);
    expect(text).not.toContain(".js:");
  });

  it("a long log line is truncated with a marker, and past the run's log budget one notice is logged and the rest dropped", async () => {
    const source = pipelineFile(`
  ctx.log.info("x".repeat(5000));
  for (let i = 0; i < 50; i++) ctx.log.info("line " + i + " " + "y".repeat(900));
  return "done";`);
    const { outcome, events } = await runSource(pool, source, { dataDir: dir.path, policy: policyWith({ logLineBytes: 1000, logBytesPerRun: 10_000 }) });
    expect(resultOf(outcome)).toBe("done");
    const logs = events.filter((e) => e.kind === "log");
    const first = logs[0];
    expect(first.kind === "log" && first.message.startsWith("x".repeat(1000))).toBe(true);
    expect(first.kind === "log" && first.message).toMatch(/… \[truncated 4000 bytes\]$/);
    const notices = logs.filter((e) => e.kind === "log" && e.message.startsWith("Log limit reached"));
    expect(notices).toHaveLength(1);
    expect(logs[logs.length - 1]).toBe(notices[0]);
    const total = logs.slice(0, -1).reduce((n, e) => n + (e.kind === "log" ? Buffer.byteLength(e.message) : 0), 0);
    expect(total).toBeLessThanOrEqual(10_000 + 100);
  });

  it("a bridge payload over the size limit is refused with TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local(":memory:");
  const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i, text: "z".repeat(100) }));
  try { await db.load(rows, { table: "big" }); return "loaded"; }
  catch (err: any) { return { code: err.code, details: err.details }; }`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, policy: policyWith({ bridgeBytes: 100_000 }) });
    expect(resultOf(outcome)).toEqual({ code: "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", details: { limitBytes: 100_000 } });
  });

  it("an answer over the size limit is refused with TAU_E_BRIDGE_PAYLOAD_TOO_LARGE instead of being sent", async () => {
    const source = pipelineFile(`
  await using db = duckdb_local(":memory:");
  try { const rows = await db.extract("SELECT range AS id, repeat('w', 100) AS text FROM range(5000)"); return rows.length; }
  catch (err: any) { return { code: err.code, limitBytes: err.details.limitBytes }; }`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, policy: policyWith({ bridgeBytes: 100_000 }) });
    expect(resultOf(outcome)).toEqual({ code: "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", limitBytes: 100_000 });
  });

  it("a result over the result size limit fails the run with TAU_E_PIPELINE_RESULT_INVALID", async () => {
    const { outcome } = await runSource(pool, pipelineFile(`return "r".repeat(20_000);`), { dataDir: dir.path, policy: policyWith({ resultBytes: 10_000 }) });
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") expect(outcome.error).toMatchObject({ code: "TAU_E_PIPELINE_RESULT_INVALID", details: { limitBytes: 10_000 } });
  });

  it("a result nested deeper than the JSON depth limit fails the run with a clear error", async () => {
    const source = pipelineFile(`let v: unknown = "leaf"; for (let i = 0; i < 200; i++) v = [v]; return v;`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") {
      expect(outcome.error.code).toBe("TAU_E_PIPELINE_RESULT_INVALID");
      expect(outcome.error.message).toContain("deeper than");
    }
  });

  it("a guest building 100k-deep nested JSON gets a clear error and the executor keeps serving", async () => {
    const source = pipelineFile(`
  let v: unknown = 0;
  for (let i = 0; i < 100000; i++) v = [v];
  await using db = duckdb_local(":memory:");
  try { await db.load([{ deep: v }], { table: "t" }); return "loaded"; }
  catch (err: any) { return err.code; }`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    expect(resultOf(outcome)).toBe("TAU_E_BRIDGE_PAYLOAD_INVALID");
    const deepResult = await runSource(pool, pipelineFile(`let v: unknown = 0; for (let i = 0; i < 100000; i++) v = [v]; return v;`), { dataDir: dir.path });
    expect(deepResult.outcome.status).toBe("failed");
    if (deepResult.outcome.status === "failed") expect(deepResult.outcome.error.code).toBe("TAU_E_PIPELINE_RESULT_INVALID");
    expect(pool.status()[0].restarts).toBe(0);
  });

  it("a connector the run left open is closed at the end of the run, releasing the DuckDB file", async () => {
    const source = pipelineFile(`
  const db = duckdb_local("left-open.duckdb");
  await db.execute("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x");
  return "not closed by the pipeline";`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path });
    expect(resultOf(outcome)).toBe("not closed by the pipeline");
    // Another process (this test) can take the file: the executor no longer holds it.
    const instance = await DuckDBInstance.create(join(dir.path, "left-open.duckdb"));
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll("SELECT x FROM t");
    expect(reader.getRowObjectsJson()).toEqual([{ x: 1 }]);
    connection.closeSync();
    instance.closeSync();
  });

  it("a policy that does not allow a connector kind refuses connector.open with TAU_E_POLICY_DENIED", async () => {
    const source = pipelineFile(`
  try { await using db = duckdb_local(":memory:"); await db.extract("SELECT 1"); return "opened"; }
  catch (err: any) { return { code: err.code, rule: err.details.rule }; }`);
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, policy: { ...policyWith({}), connectors: ["postgres"] } });
    expect(resultOf(outcome)).toEqual({ code: "TAU_E_POLICY_DENIED", rule: "connectors" });
  });
});

describe("the bridge against a hostile guest that holds the raw dispatch functions", () => {
  const hostile = useHostilePool();

  it("guest-to-host data are strings only: non-string arguments are refused in the guest, never cloned to the host", async () => {
    const source = pipelineFile(`
  const leak = (globalThis as any).__leak;
  const attempts: Record<string, string> = {};
  const rab = new (ArrayBuffer as any)(16, { maxByteLength: 64 });
  const view = new Uint8Array(rab, 0, 8);
  rab.resize(2);
  const tries: Array<[string, () => unknown]> = [
    ["sync object payload", () => leak.sync("secret.check", { name: "HOME" })],
    ["sync shrunk resizable buffer", () => leak.sync("secret.check", view)],
    ["async buffer payload", () => leak.dispatch(1, "log", rab)],
    ["async object op", () => leak.dispatch(1, { op: "log" }, "{}")],
    ["async string id", () => leak.dispatch("1", "log", "{}")],
  ];
  for (const [name, attempt] of tries) {
    try { attempt(); attempts[name] = "accepted"; } catch (err: any) { attempts[name] = err.constructor.name + ": " + err.message; }
  }
  return attempts;`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const attempts = resultOf(outcome) as Record<string, string>;
    expect(Object.keys(attempts)).toHaveLength(5);
    for (const [name, result] of Object.entries(attempts)) {
      expect(result, name).toMatch(/^TypeError: tau bridge: dispatch/);
    }
    const next = await runSource(hostile.pool, pipelineFile(`return "alive";`), { dataDir: hostile.dir.path });
    expect(resultOf(next.outcome)).toBe("alive");
  });

  it("host handlers never throw into the guest: malformed calls get an ok:false answer with a code", async () => {
    const source = pipelineFile(`
  const leak = (globalThis as any).__leak;
  const sync: Record<string, unknown> = {};
  const calls: Array<[string, string, string]> = [
    ["not json", "secret.check", "{not json"],
    ["unknown sync op", "connector.open", "{}"],
    ["deep payload", "secret.check", "[".repeat(100000) + "]".repeat(100000)],
    ["missing secret", "secret.check", JSON.stringify({ name: "TAU_TEST_SURELY_MISSING_SECRET" })],
  ];
  for (const [name, op, payload] of calls) {
    try { sync[name] = JSON.parse(leak.sync(op, payload)); } catch (err: any) { sync[name] = "threw " + err.message; }
  }
  leak.dispatch(900001, "no.such.op", "{}");
  leak.dispatch(900002, "connector.call", JSON.stringify({ handle: "h999", method: "extract", args: [] }));
  leak.dispatch(900003, "log", "[".repeat(100000) + "]".repeat(100000));
  leak.dispatch(900004, "step.end", JSON.stringify({ id: 12345 }));
  await using db = duckdb_local(":memory:");
  await db.extract("SELECT 1"); // round trips: the answers above arrive first
  const answers: Record<string, unknown> = {};
  for (const [id, text] of leak.answers) if (id > 900000) answers[id] = JSON.parse(text);
  return { sync, answers };`);
    const { outcome } = await runSource(hostile.pool, source, { dataDir: hostile.dir.path });
    const { sync, answers } = resultOf(outcome) as { sync: Record<string, any>; answers: Record<string, any> };
    expect(sync["not json"]).toMatchObject({ ok: false, error: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID" } });
    expect(sync["unknown sync op"]).toMatchObject({ ok: false, error: { code: "TAU_E_BRIDGE_OP_UNKNOWN" } });
    expect(sync["deep payload"]).toMatchObject({ ok: false, error: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID", details: { maxDepth: 64 } } });
    expect(sync["missing secret"]).toMatchObject({ ok: false, error: { code: "TAU_E_SECRET_NOT_FOUND" } });
    expect(answers["900001"]).toMatchObject({ ok: false, error: { code: "TAU_E_BRIDGE_OP_UNKNOWN" } });
    expect(answers["900002"]).toMatchObject({ ok: false, error: { code: "TAU_E_CONNECTOR_CLOSED" } });
    expect(answers["900003"]).toMatchObject({ ok: false, error: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID" } });
    expect(answers["900004"]).toMatchObject({ ok: false, error: { code: "TAU_E_STEP_INVALID" } });
    for (const a of [...Object.values(sync), ...Object.values(answers)]) {
      expect(typeof a.error.message).toBe("string");
      expect(typeof a.error.hint).toBe("string");
      expect(JSON.stringify(a)).not.toMatch(/\n\s*at\s/);
    }
  });
});
