/**
 * The host side of `ctx.materialize` against hostile payloads: the executor's Bridge with a real
 * ConnectorHost and DuckDB (a temp data folder), driven the way a compromised guest could drive it. Every
 * refusal is an `ok:false` answer with a Tau code; a failing engine leaves no open transaction behind and
 * its error is scrubbed of secrets; oversized statements are cut before they cross back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { ConnectorHost } from "../../runtime/connectors";
import type { MaterializeEngine } from "../../sandbox/executor/materialize-op";
import { Bridge } from "../../sandbox/executor/bridge";
import { RunEvents } from "../../sandbox/executor/run-events";
import { EnvSecretSource, RunSecrets } from "../../sandbox/executor/secrets";
import { SecretScrubber } from "../../sandbox/scrub";
import { TauError } from "../../server/contract";

const SECRET = "pw-matsdk-Tango-9931";
const dataDir = mkdtempSync(join(tmpdir(), "tau-matsdk-op-"));
const host = new ConnectorHost();
const validSpec = { strategy: "full_refresh", targetTable: "t_ok", sourceQuery: "SELECT 1 AS id", preHook: [], postHook: [] };

interface Answer {
  ok: boolean;
  value?: any;
  error?: { code: string; message: string; hint: string; details: Record<string, unknown> };
}

function makeBridge(engine?: MaterializeEngine): { bridge: Bridge; secrets: RunSecrets } {
  const scrubber = new SecretScrubber();
  const events = new RunEvents(LOCAL_POLICY.limits, scrubber, () => undefined);
  const secrets = new RunSecrets(new EnvSecretSource({ TAU_TEST_MATSDK_PW: SECRET }), "local", LOCAL_POLICY, scrubber);
  const bridge = new Bridge({ mode: "run", runId: "run-op-test", policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits, dataDir, events, secrets, scrubber, connectors: host, materialize: engine });
  return { bridge, secrets };
}

async function call(bridge: Bridge, op: string, payload: unknown): Promise<Answer> {
  return JSON.parse(await bridge.handle(op, typeof payload === "string" ? payload : JSON.stringify(payload))) as Answer;
}

async function openDuck(bridge: Bridge): Promise<string> {
  const answer = await call(bridge, "connector.open", { kind: "duckdb_local", options: { path: "op.duckdb" } });
  expect(answer.ok, JSON.stringify(answer)).toBe(true);
  return answer.value.handle as string;
}

let bridges: Bridge[] = [];
beforeEach(async () => {
  await Promise.all(bridges.map((b) => b.end()));
  bridges = [];
});
afterAll(async () => {
  await Promise.all(bridges.map((b) => b.end()));
  host.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the materialize bridge operation", () => {
  it("refuses hostile payloads with a code naming what is wrong, before the engine runs", async () => {
    let engineCalls = 0;
    const { bridge } = makeBridge(async () => {
      engineCalls++;
      throw new Error("the engine must not run");
    });
    bridges.push(bridge);
    const handle = await openDuck(bridge);
    const cases: Array<[unknown, string, Record<string, unknown>]> = [
      [{ handle, spec: "DROP TABLE x", dialect: null }, "TAU_E_MATERIALIZE_CONFIG", { field: "config" }],
      [{ handle, spec: { ...validSpec, targetTable: 'x"; DROP TABLE y; --' }, dialect: null }, "TAU_E_MATERIALIZE_CONFIG", { field: "targetTable" }],
      [{ handle, spec: { ...validSpec, __proto__: { evil: 1 }, extra: 1 }, dialect: null }, "TAU_E_MATERIALIZE_CONFIG", { field: "extra" }],
      [{ handle, spec: { ...validSpec, strategy: "scd_type_2" }, dialect: null }, "TAU_E_MATERIALIZE_CONFIG", { field: "uniqueKey" }],
      [{ handle, spec: validSpec, dialect: 42 }, "TAU_E_MATERIALIZE_CONFIG", { field: "dialect" }],
      [{ handle, spec: validSpec, dialect: "mysql" }, "TAU_E_MATERIALIZE_CONFIG", { field: "dialect", expected: "duckdb" }],
      [{ handle: "h999", spec: validSpec, dialect: null }, "TAU_E_CONNECTOR_CLOSED", {}],
      [{ handle: { toString: 1 }, spec: validSpec, dialect: null }, "TAU_E_CONNECTOR_CLOSED", {}],
      [{ handle, spec: { ...validSpec, sourceQuery: `SELECT '${"x".repeat(5 * 1024 * 1024)}'` }, dialect: null }, "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", {}],
    ];
    for (const [payload, code, details] of cases) {
      const answer = await call(bridge, "materialize", payload);
      expect(answer.ok).toBe(false);
      expect(answer.error!.code, JSON.stringify(answer.error)).toBe(code);
      expect(answer.error!.details).toMatchObject(details);
      expect(answer.error!.hint.length).toBeGreaterThan(0);
    }
    expect(await call(bridge, "materialize", "{not json")).toMatchObject({ ok: false, error: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID" } });
    expect(engineCalls).toBe(0);
  });

  it("rolls back what a failing engine left open, answers its error scrubbed, and the connector stays usable", async () => {
    const { bridge } = makeBridge(async (_spec, session) => {
      await session.execute("CREATE TABLE IF NOT EXISTS t_tx (id INTEGER)");
      await session.execute("BEGIN TRANSACTION");
      await session.execute("INSERT INTO t_tx VALUES (1), (2)");
      throw new TauError("TAU_E_MATERIALIZE_FAILED", `the engine gave up near ${SECRET}`, { sql: `SELECT '${SECRET}'` });
    });
    bridges.push(bridge);
    const handle = await openDuck(bridge);
    expect((await call(bridge, "secret.check", { name: "TAU_TEST_MATSDK_PW" })).ok).toBe(true);
    const answer = await call(bridge, "materialize", { handle, spec: validSpec, dialect: "duckdb" });
    expect(answer.error).toMatchObject({ code: "TAU_E_MATERIALIZE_FAILED", message: "the engine gave up near [secret:TAU_TEST_MATSDK_PW]" });
    expect(JSON.stringify(answer)).not.toContain(SECRET);
    const count = await call(bridge, "connector.call", { handle, method: "extract", args: ["SELECT count(*)::INTEGER AS n FROM t_tx"] });
    expect(count).toEqual({ ok: true, value: [{ n: 0 }] });
  });

  it("cuts a huge statement and scrubs secrets from the statements it answers with", async () => {
    const { bridge } = makeBridge(async (spec, session) => {
      await session.execute(`CREATE OR REPLACE TABLE ${spec.targetTable} AS SELECT '${SECRET}' AS s`);
      return {
        strategy: spec.strategy,
        targetTable: spec.targetTable,
        rowsAffected: 1,
        statements: [`SELECT '${SECRET}'`, `SELECT '${"y".repeat(100_000)}'`],
        durationMs: 3,
      };
    });
    bridges.push(bridge);
    const handle = await openDuck(bridge);
    await call(bridge, "secret.check", { name: "TAU_TEST_MATSDK_PW" });
    const answer = await call(bridge, "materialize", { handle, spec: validSpec, dialect: null });
    expect(answer.ok, JSON.stringify(answer.error)).toBe(true);
    expect(answer.value).toMatchObject({ strategy: "full_refresh", targetTable: "t_ok", rowsAffected: 1, durationMs: 3, dialect: "duckdb" });
    expect(answer.value.statements[0]).toBe("SELECT '[secret:TAU_TEST_MATSDK_PW]'");
    expect(answer.value.statements[1].length).toBeLessThan(66 * 1024);
    expect(answer.value.statements[1]).toContain("[truncated");
  });

  it("gives the engine the bridge's run id, whatever id the guest sends", async () => {
    let seen: string | null = null;
    const { bridge } = makeBridge(async (spec, _session, opts) => {
      seen = opts.runId;
      return { strategy: spec.strategy, targetTable: spec.targetTable, rowsAffected: 0, statements: [], durationMs: 0 };
    });
    bridges.push(bridge);
    const handle = await openDuck(bridge);
    const answer = await call(bridge, "materialize", { handle, spec: validSpec, dialect: null, runId: "forged'; DROP TABLE t; --" });
    expect(answer.ok, JSON.stringify(answer.error)).toBe(true);
    expect(seen).toBe("run-op-test");
  });

  it("answers TAU_E_INTERNAL when the engine returns a malformed result", async () => {
    const { bridge } = makeBridge(async (spec) => ({ strategy: spec.strategy, targetTable: spec.targetTable, rowsAffected: -1, statements: [], durationMs: 0 }));
    bridges.push(bridge);
    const handle = await openDuck(bridge);
    const answer = await call(bridge, "materialize", { handle, spec: validSpec, dialect: null });
    expect(answer.error?.code).toBe("TAU_E_INTERNAL");
  });
});
