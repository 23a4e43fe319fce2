// Builds the dashboard into `<distDir>/web/` (scripts/build.mjs calls `node web/build.mjs <distDir>`; run
// alone it writes `dist/web/`): one ES module bundle (preact, dagre, highlight.js core + TypeScript) and
// one stylesheet, minified, with linked source maps, plus index.html. taud serves that folder at `/`.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const distDir = resolve(process.argv[2] ?? join(here, "..", "dist"));
const out = join(distDir, "web");
const started = Date.now();

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: "src/main.tsx" },
  outdir: out,
  bundle: true,
  platform: "browser",
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: "linked",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});
copyFileSync(join(here, "index.html"), join(out, "index.html"));

const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith(".map"))
  .map(([file, o]) => `${file.split("/").pop()} ${(o.bytes / 1024).toFixed(0)} KiB`)
  .join(", ");
process.stderr.write(`web: built ${bytes} in ${Date.now() - started} ms\n`);
