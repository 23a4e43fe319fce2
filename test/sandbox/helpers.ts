/**
 * Shared by the sandbox tests: compile real pipeline files with the deploy compiler, run them in real
 * executor processes through the ExecutorPool. Needs `npm run build` (dist/sandbox/executor.js and
 * dist/guest/runtime.js).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy, type PolicyLimits } from "../../policies";
import { compilePipeline } from "../../sandbox/compile";
import { defaultExecutorPath, defaultGuestRuntimePath } from "../../sandbox/executor-paths";
import { afterAll, beforeAll } from "vitest";
import { ExecutorPool } from "../../sandbox/pool";
import type { CompiledPipeline, RunJob, RunOutcome, SandboxEvent } from "../../sandbox/types";

export function requireBuild(): void {
  for (const file of [defaultExecutorPath(), defaultGuestRuntimePath()]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the sandbox tests`);
  }
}

/** A pipeline file whose default export runs `body` (TypeScript) with `ctx` and, if asked, `db`. */
export function pipelineFile(body: string, options: { name?: string; meta?: string; prelude?: string } = {}): string {
  const meta = options.meta ?? `{ name: ${JSON.stringify(options.name ?? "test_pipeline")} }`;
  return [
    `import { pipeline } from "tau";`,
    `import { duckdb_local } from "tau/connectors";`,
    options.prelude ?? "",
    `export default pipeline(${meta}, async (ctx: any) => {`,
    body,
    `});`,
    ``,
  ].join("\n");
}

export async function compile(source: string, filename = "pipeline.ts"): Promise<CompiledPipeline & { filename: string }> {
  const compiled = await compilePipeline({ source, filename, typecheck: false });
  return { ...compiled, filename };
}

export function policyWith(limits: Partial<PolicyLimits>, base: Policy = LOCAL_POLICY): Policy {
  return { ...base, limits: { ...DEFAULT_LIMITS, ...base.limits, ...limits } };
}

let nextRun = 1;

export function makeJob(compiled: CompiledPipeline & { filename: string }, overrides: Partial<RunJob> & { dataDir: string }): RunJob {
  return {
    runId: `run-${process.pid}-${nextRun++}`,
    tenantId: "local",
    pipeline: "test_pipeline",
    version: 1,
    filename: compiled.filename,
    bundle: compiled.bundle,
    sourceMap: compiled.sourceMap,
    params: {},
    lastSuccessfulRun: null,
    timeoutSec: null,
    policy: LOCAL_POLICY,
    ...overrides,
  };
}

export interface Ran {
  job: RunJob;
  outcome: RunOutcome;
  events: SandboxEvent[];
}

/** Compiles `source` and runs it through the pool; resolves with the outcome and every event. */
export async function runSource(pool: ExecutorPool, source: string, job: Partial<RunJob> & { dataDir: string }): Promise<Ran> {
  const compiled = await compile(source, job.filename ?? "pipeline.ts");
  const full = makeJob(compiled, job);
  const events: SandboxEvent[] = [];
  const outcome = await pool.run(full, (e) => events.push(e));
  return { job: full, outcome, events };
}

/** Starts a run and returns it before it ends (for cancel and crash tests). */
export async function startSource(
  pool: ExecutorPool,
  source: string,
  job: Partial<RunJob> & { dataDir: string },
): Promise<{ job: RunJob; events: SandboxEvent[]; done: Promise<RunOutcome> }> {
  const compiled = await compile(source, job.filename ?? "pipeline.ts");
  const full = makeJob(compiled, job);
  const events: SandboxEvent[] = [];
  return { job: full, events, done: pool.run(full, (e) => events.push(e)) };
}

export function tempDir(prefix = "tau-sandbox-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A guest runtime that leaks the raw bridge to pipeline code (as `globalThis.__leak`) and records every
 * answer the host delivers (`__leak.answers`): a stand-in for a compromised runtime, to test what the host
 * does with hostile input.
 */
export function hostileRuntime(dir: string): string {
  const real = readFileSync(defaultGuestRuntimePath(), "utf8");
  const before = `globalThis.__leak = { dispatch: globalThis.__tau_dispatch, sync: globalThis.__tau_dispatch_sync, answers: [] };\n`;
  const after = `
;(function () {
  var e = globalThis.__tau_entry, answers = globalThis.__leak.answers, deliver = e.deliver;
  Object.defineProperty(globalThis, "__tau_entry", { configurable: true, value: Object.freeze({
    run: e.run, describe: e.describe,
    deliver: function () {
      for (var i = 0; i + 1 < arguments.length; i += 2) answers.push([arguments[i], arguments[i + 1]]);
      return deliver.apply(undefined, arguments);
    }
  }) });
})();\n`;
  const file = join(dir, "hostile-runtime.js");
  writeFileSync(file, before + real + after);
  return file;
}

/**
 * One executor whose guest runtime is `hostileRuntime`, started before the tests of the calling `describe`
 * and closed after them, with a temporary data folder.
 */
export function useHostilePool(): { readonly dir: { path: string; remove(): void }; readonly pool: ExecutorPool } {
  const dir = tempDir();
  let pool: ExecutorPool | undefined;
  beforeAll(async () => {
    requireBuild();
    pool = new ExecutorPool({ size: 1, env: { ...process.env, TAU_GUEST_RUNTIME: hostileRuntime(dir.path) }, onStderr: () => undefined });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
    dir.remove();
  });
  return {
    dir,
    get pool(): ExecutorPool {
      if (!pool) throw new Error("the hostile pool is not started yet");
      return pool;
    },
  };
}

export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
