/**
 * A private build of the executor and the guest runtime for the stream/copy tests, made from the current
 * tree with the options scripts/build.mjs uses — so these tests neither need `npm run build` nor read a
 * dist/ that someone else is rebuilding. The guest runtime is wrapped so that a pipeline can read how many
 * bytes crossed the bridge in each direction (`globalThis.__bridgeBytes`): the copy path must move no rows
 * through the isolate.
 */
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExecutorPool } from "../../sandbox/pool";

export const ROOT = join(__dirname, "..", "..");

export interface PrivateBuild {
  executorPath: string;
  runtimePath: string;
  remove(): void;
}

export async function buildPrivateExecutor(): Promise<PrivateBuild> {
  // Inside the package (node_modules resolve from here; findPackageRoot finds Tau's package.json).
  const dir = join(ROOT, "node_modules", ".cache", `tau-streams-test-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["sandbox/executor/main.ts"],
    outfile: join(dir, "executor.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    packages: "external",
    logLevel: "silent",
  });
  const runtime = await build({
    absWorkingDir: ROOT,
    entryPoints: ["runtime/sdk/guest.ts"],
    bundle: true,
    platform: "neutral",
    format: "iife",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const before = `(function () {
  var d = globalThis.__tau_dispatch, counts = { toHost: 0, toGuest: 0 };
  Object.defineProperty(globalThis, "__bridgeBytes", { value: counts });
  globalThis.__tau_dispatch = function (id, op, payload) { counts.toHost += payload.length; return d(id, op, payload); };
})();\n`;
  const after = `
;(function () {
  var e = globalThis.__tau_entry, counts = globalThis.__bridgeBytes, deliver = e.deliver;
  Object.defineProperty(globalThis, "__tau_entry", { configurable: true, value: Object.freeze({
    run: e.run, describe: e.describe,
    deliver: function () {
      for (var i = 1; i < arguments.length; i += 2) counts.toGuest += typeof arguments[i] === "string" ? arguments[i].length : 0;
      return deliver.apply(undefined, arguments);
    }
  }) });
})();\n`;
  const runtimePath = join(dir, "runtime.js");
  writeFileSync(runtimePath, before + runtime.outputFiles[0]!.text + after);
  return { executorPath: join(dir, "executor.js"), runtimePath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startPrivatePool(b: PrivateBuild, size = 1, env: Record<string, string> = {}): Promise<ExecutorPool> {
  const pool = new ExecutorPool({
    size,
    executorPath: b.executorPath,
    env: { ...process.env, ...env, TAU_GUEST_RUNTIME: b.runtimePath },
    onStderr: (_id, line) => process.stderr.write(`[executor] ${line}\n`),
  });
  await pool.start();
  return pool;
}
