// Builds everything Tau runs from: the CLI, the daemon and the executor as bundled CommonJS (so neither
// starts through a TypeScript loader), the guest runtime as one script evaluated in each isolate, the
// SDK's type declarations (what deploy type-checks against and `tau init` writes), and the dashboard.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Everything is built into a fresh folder that then replaces dist/ in two renames, so that a build never
// leaves a half-written dist/ under a test or daemon that is reading it.
const finalDist = join(root, "dist");
const dist = join(root, `dist.building-${process.pid}`);
const started = Date.now();

const nodeEntries = [
  { in: "server/bin.ts", out: "server/bin", bin: true },
  { in: "cli/bin.ts", out: "cli/bin", bin: true },
  { in: "sandbox/executor/main.ts", out: "sandbox/executor" },
  { in: "bench/run-overhead.ts", out: "bench/run-overhead" },
  { in: "bench/duckdb-load.ts", out: "bench/duckdb-load" },
  { in: "bench/row-transport.ts", out: "bench/row-transport" },
  { in: "bench/mysql-load.ts", out: "bench/mysql-load" },
  { in: "bench/postgres-load.ts", out: "bench/postgres-load" },
  { in: "bench/store-throughput.ts", out: "bench/store-throughput" },
  { in: "bench/scheduler.ts", out: "bench/scheduler" },
  { in: "bench/dag.ts", out: "bench/dag" },
].filter((e) => {
  const ok = existsSync(join(root, e.in));
  if (!ok) process.stderr.write(`build: skipping missing entry ${e.in}\n`);
  return ok;
});

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
process.on("exit", () => rmSync(dist, { recursive: true, force: true }));

await build({
  absWorkingDir: root,
  entryPoints: nodeEntries.map((e) => ({ in: e.in, out: e.out })),
  outdir: dist,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
for (const e of nodeEntries.filter((e) => e.bin)) {
  const file = join(dist, `${e.out}.js`);
  chmodSync(file, 0o755);
}

// The guest runtime: runs inside every isolate before the pipeline bundle. No Node, no host modules.
await build({
  absWorkingDir: root,
  entryPoints: ["runtime/sdk/guest.ts"],
  outfile: join(dist, "guest/runtime.js"),
  bundle: true,
  platform: "neutral",
  format: "iife",
  target: "es2022",
  logLevel: "warning",
});

// SDK declarations for deploy-time type checking and `tau init`.
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "runtime/sdk/tsconfig.json", "--outDir", join(dist, "sdk-types")], {
  cwd: root,
  stdio: "inherit",
});

if (existsSync(join(root, "web/build.mjs"))) {
  // The dashboard's build takes the folder to write into (it writes `<dist>/web/`).
  execFileSync(process.execPath, [join(root, "web/build.mjs"), dist], { cwd: root, stdio: "inherit" });
}

const old = join(root, `dist.old-${process.pid}`);
if (existsSync(finalDist)) renameSync(finalDist, old);
renameSync(dist, finalDist);
rmSync(old, { recursive: true, force: true });

process.stderr.write(`build: done in ${Date.now() - started} ms\n`);
