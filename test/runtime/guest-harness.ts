/**
 * Runs a compiled pipeline in a real isolated-vm isolate with the guest runtime (built from
 * runtime/sdk/guest.ts with the options scripts/build.mjs uses for dist/guest/runtime.js), wired exactly as docs/bridge-protocol.md says, against a tiny in-test host:
 * logs and steps are recorded, `secret.check` answers from a map, and `duckdb_local` connectors are
 * backed by a real in-memory DuckDB.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import ivm from "isolated-vm";
import { build } from "esbuild";
import { join } from "node:path";
import { compilePipeline } from "../../sandbox/compile";
import { decodeRowBatch } from "../../sandbox/executor/row-batch";
import type { CompiledPipeline } from "../../sandbox/types";
import { builtSdkTypes } from "./sdk-types-fixture";

export const ROOT = join(__dirname, "..", "..");

let runtimeSource: Promise<string> | null = null;

/**
 * The guest runtime script. Built in memory from the tree (same esbuild options as scripts/build.mjs)
 * rather than read from dist/, so the tests exercise the current source and a concurrent `npm run build`
 * (which empties dist/) cannot break them.
 */
export function guestRuntimeSource(): Promise<string> {
  runtimeSource ??= build({
    absWorkingDir: ROOT,
    entryPoints: ["runtime/sdk/guest.ts"],
    bundle: true,
    platform: "neutral",
    format: "iife",
    target: "es2022",
    write: false,
    logLevel: "silent",
  }).then((r) => r.outputFiles[0]!.text);
  return runtimeSource;
}

export interface RecordedOp {
  id: number;
  op: string;
  payload: Record<string, unknown>;
}

export interface HostError {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export interface HarnessOptions {
  filename?: string;
  secrets?: Record<string, string>;
  typecheck?: boolean;
  /** Step names whose step.start the host refuses (to test deferred refusals). */
  refuseSteps?: string[];
}

type Answer = { ok: true; value: unknown } | { ok: false; error: HostError };

/** 1-based line of the first source line containing `marker`. */
export function lineOf(source: string, marker: string): number {
  const index = source.split("\n").findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`marker ${marker} not in source`);
  return index + 1;
}

export class GuestHarness {
  readonly ops: RecordedOp[] = [];
  readonly compiled: CompiledPipeline;
  private readonly isolate: ivm.Isolate;
  private readonly context: ivm.Context;
  private entry!: { run: ivm.Reference; describe: ivm.Reference; deliver: ivm.Reference };
  private readonly secrets: Record<string, string>;
  private readonly refuseSteps: Set<string>;
  private db: { instance: DuckDBInstance; connection: DuckDBConnection } | null = null;
  private readonly handles = new Set<string>();
  private readonly parts = new Map<string, { options: unknown; rows: unknown[] }>();
  private nextHandle = 1;
  private readonly answering = new Set<Promise<void>>();

  private constructor(compiled: CompiledPipeline, isolate: ivm.Isolate, context: ivm.Context, options: HarnessOptions) {
    this.compiled = compiled;
    this.isolate = isolate;
    this.context = context;
    this.secrets = options.secrets ?? {};
    this.refuseSteps = new Set(options.refuseSteps ?? []);
  }

  static async create(source: string, options: HarnessOptions = {}): Promise<GuestHarness> {
    const compiled = await compilePipeline(
      { source, filename: options.filename ?? "pipeline-under-test.ts", typecheck: options.typecheck },
      { sdkTypesDir: builtSdkTypes() },
    );
    return GuestHarness.fromCompiled(compiled, options);
  }

  static async fromCompiled(compiled: CompiledPipeline, options: HarnessOptions = {}): Promise<GuestHarness> {
    const isolate = new ivm.Isolate({ memoryLimit: 64 });
    const context = await isolate.createContext();
    const harness = new GuestHarness(compiled, isolate, context, options);
    await harness.boot();
    return harness;
  }

  private async boot(): Promise<void> {
    const jail = this.context.global;
    await jail.set(
      "__tau_dispatch",
      new ivm.Callback((id: number, op: string, payload: string) => this.onDispatch(id, op, payload), { ignored: true }),
    );
    await jail.set("__tau_dispatch_sync", new ivm.Callback((op: string, payload: string) => this.onDispatchSync(op, payload)));
    const runtime = await this.isolate.compileScript(await guestRuntimeSource(), { filename: "tau-runtime.js" });
    await runtime.run(this.context);
    const entry = (await jail.get("__tau_entry", { reference: true })) as ivm.Reference<Record<string, unknown>>;
    this.entry = {
      run: (await entry.get("run", { reference: true })) as ivm.Reference,
      describe: (await entry.get("describe", { reference: true })) as ivm.Reference,
      deliver: (await entry.get("deliver", { reference: true })) as ivm.Reference,
    };
    await jail.delete("__tau_entry");
    const bundle = await this.isolate.compileScript(this.compiled.bundle, { filename: "pipeline.js" });
    await bundle.run(this.context);
  }

  /** Evaluates guest code in the pipeline's context (to look at globals from the test). */
  async evalGuest(code: string): Promise<unknown> {
    return this.context.eval(code, { copy: true });
  }

  async run(init: Partial<{ runId: string; pipeline: string; params: unknown; lastSuccessfulRun: string | null }> = {}): Promise<{
    text: string;
    answer: { ok: boolean; result?: unknown; error?: Record<string, unknown> };
  }> {
    const initJson = JSON.stringify({ runId: "run-1", pipeline: "test", params: {}, lastSuccessfulRun: null, ...init });
    const text = (await this.entry.run.apply(undefined, [initJson], {
      arguments: { copy: true },
      result: { promise: true, copy: true },
    })) as string;
    // Notifications (id 0) are delivered to the host asynchronously: let them land.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([...this.answering]);
    return { text, answer: JSON.parse(text) as { ok: boolean; result?: unknown; error?: Record<string, unknown> } };
  }

  async describe(): Promise<{ text: string; answer: Record<string, unknown> }> {
    const text = (await this.entry.describe.apply(undefined, [], { result: { copy: true } })) as string;
    return { text, answer: JSON.parse(text) as Record<string, unknown> };
  }

  ofOp(op: string): Record<string, unknown>[] {
    return this.ops.filter((o) => o.op === op).map((o) => o.payload);
  }

  /** Step outcomes by name: `{ name: status }` plus the full start/end payloads. */
  steps(): { name: string; id: number; status: string | null; end: Record<string, unknown> | null }[] {
    const ends = new Map(this.ofOp("step.end").map((e) => [e.id as number, e]));
    return this.ofOp("step.start").map((s) => {
      const end = ends.get(s.id as number) ?? null;
      return { name: s.name as string, id: s.id as number, status: end ? (end.status as string) : null, end };
    });
  }

  logs(): { level: string; message: string; step: string | null; fields?: unknown }[] {
    return this.ofOp("log") as unknown as { level: string; message: string; step: string | null; fields?: unknown }[];
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.answering]);
    if (!this.isolate.isDisposed) this.isolate.dispose();
    if (this.db) {
      this.db.connection.closeSync();
      this.db.instance.closeSync();
      this.db = null;
    }
  }

  // ── the host ─────────────────────────────────────────────────────────────────────────────────────

  private onDispatch(id: number, op: string, payloadText: string): void {
    let payload: Record<string, unknown>;
    if (op === "connector.load") {
      // The columnar row transport: decoded as the executor's bridge decodes it, recorded with the rows as objects.
      const decoded = decodeRowBatch(payloadText, { maxBytes: 64 * 1024 * 1024, maxDepth: 64 });
      payload = { handle: decoded.handle, options: decoded.options, rows: decoded.batch.rows() };
      // A part of a pipelined append (runtime/sdk/row-batch-parts.ts): its rows are loaded at the final call.
      if ("load" in decoded) Object.assign(payload, { load: decoded.load, part: decoded.part });
    } else {
      payload = JSON.parse(payloadText) as Record<string, unknown>;
    }
    this.ops.push({ id, op, payload });
    if (id === 0) return;
    const answering = (async () => {
      const answer = await this.answer(op, payload);
      if (this.isolate.isDisposed) return;
      await this.entry.deliver.apply(undefined, [id, JSON.stringify(answer)], { arguments: { copy: true } });
    })();
    this.answering.add(answering);
    void answering.finally(() => this.answering.delete(answering));
  }

  private onDispatchSync(op: string, payloadText: string): string {
    const payload = JSON.parse(payloadText) as Record<string, unknown>;
    this.ops.push({ id: -1, op, payload });
    if (op !== "secret.check") return JSON.stringify(fail("TAU_E_BRIDGE_OP_UNKNOWN", `${op} is not synchronous`));
    const name = payload.name as string;
    if (!(name in this.secrets)) {
      return JSON.stringify(fail("TAU_E_SECRET_NOT_FOUND", `No secret named ${name}.`, { name }));
    }
    return JSON.stringify({ ok: true, value: { marker: `{{tau.secret:${name}}}` } });
  }

  private async answer(op: string, p: Record<string, unknown>): Promise<Answer> {
    try {
      switch (op) {
        case "step.start":
          if (this.refuseSteps.has(p.name as string)) return fail("TAU_E_STEP_INVALID", `The host refuses step ${String(p.name)}.`);
          return { ok: true, value: {} };
        case "step.end":
          return { ok: true, value: {} };
        case "connector.open": {
          if (p.kind !== "duckdb_local") return fail("TAU_E_CONNECTOR_UNAVAILABLE", `No connector ${String(p.kind)}.`);
          const options = (p.options ?? {}) as Record<string, unknown>;
          if (typeof options.path === "string" && options.path.includes("forbidden")) {
            return fail("TAU_E_POLICY_DENIED", "The policy forbids that path.", { rule: "duckdbAnyPath" });
          }
          await this.database();
          const handle = `h${this.nextHandle++}`;
          this.handles.add(handle);
          return { ok: true, value: { handle } };
        }
        case "connector.call":
          if (!this.handles.has(p.handle as string)) return fail("TAU_E_CONNECTOR_CLOSED", "Unknown handle.");
          return { ok: true, value: await this.call(p.method as string, p.args as unknown[]) };
        case "connector.load":
          if (!this.handles.has(p.handle as string)) return fail("TAU_E_CONNECTOR_CLOSED", "Unknown handle.");
          if (typeof p.load === "string") {
            const parts = this.parts.get(p.load) ?? { options: p.options, rows: [] };
            parts.rows.push(...(p.rows as unknown[]));
            this.parts.set(p.load, parts);
            return { ok: true, value: {} };
          }
          return { ok: true, value: await this.call("load", [p.rows, p.options]) };
        case "connector.loadEnd": {
          const parts = this.parts.get(p.load as string);
          this.parts.delete(p.load as string);
          if (!parts) return fail("TAU_E_BRIDGE_PAYLOAD_INVALID", "No parts.");
          return { ok: true, value: p.abort === true ? null : await this.call("load", [parts.rows, parts.options]) };
        }
        case "connector.close":
          this.handles.delete(p.handle as string);
          return { ok: true, value: {} };
        default:
          return fail("TAU_E_BRIDGE_OP_UNKNOWN", `Unknown op ${op}.`);
      }
    } catch (err) {
      return fail("TAU_E_CONNECTOR_QUERY_FAILED", (err as Error).message);
    }
  }

  private async database(): Promise<DuckDBConnection> {
    if (!this.db) {
      const instance = await DuckDBInstance.create(":memory:");
      this.db = { instance, connection: await instance.connect() };
    }
    return this.db.connection;
  }

  private async call(method: string, args: unknown[]): Promise<unknown> {
    const c = await this.database();
    switch (method) {
      case "extract": {
        const reader = await c.runAndReadAll(args[0] as string, args[1] as DuckDBValue[]);
        return reader.getRowObjectsJson();
      }
      case "execute": {
        const result = await c.run(args[0] as string, args[1] as DuckDBValue[]);
        return { rowsAffected: result.rowsChanged };
      }
      case "load": {
        const rows = args[0] as Record<string, DuckDBValue>[];
        const { table, mode } = args[1] as { table: string; mode: string };
        if (mode === "replace") await c.run(`DELETE FROM ${table}`);
        for (const row of rows) {
          const columns = Object.keys(row);
          await c.run(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, Object.values(row));
        }
        return rows.length;
      }
      case "getSchema": {
        const reader = await c.runAndReadAll(`DESCRIBE ${args[0] as string}`);
        return reader.getRowObjectsJson().map((r) => ({ name: r.column_name, type: r.column_type, nullable: r.null === "YES" }));
      }
      default:
        throw new Error(`no method ${method}`);
    }
  }
}

function fail(code: string, message: string, details: Record<string, unknown> = {}): Answer {
  return { ok: false, error: { code, message, hint: `hint for ${code}`, details } };
}
