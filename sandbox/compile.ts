/**
 * Deploy-time compilation: one pipeline file (text) → the script an isolate evaluates after the guest
 * runtime, its source map, and the source's hash. Bad input is a TauError the agent can act on: syntax
 * errors, forbidden imports and type errors carry `details.errors = [{file, line, column, message}]`
 * (1-based) pointing into the file as written.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { builtinModules } from "node:module";
import { build, type BuildFailure, type Message, type Plugin } from "esbuild";
import { TauError, type ErrorCode } from "../server/contract";
import { findPackageRoot, sdkTypesDir as defaultSdkTypesDir } from "./package-root";
import { createPipelineTypeChecker, sdkDeclarationFiles, type PipelineTypeChecker, type TypecheckDiagnostic } from "./typecheck";
import type { CompileInput, CompiledPipeline } from "./types";

/** Largest pipeline source accepted, in UTF-8 bytes. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

/** How many problems details.errors lists at most (the total is in details.errorCount). */
const ERRORS_LISTED = 50;

const FILENAME_MAX = 1024;

export interface CompileOptions {
  /** Largest accepted source in UTF-8 bytes (default MAX_SOURCE_BYTES, 1 MiB). */
  maxSourceBytes?: number;
  /** Folder with the SDK declarations (default: dist/sdk-types in Tau's package folder). */
  sdkTypesDir?: string;
}

/** One problem in the pipeline file, 1-based. */
export interface SourceProblem {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
}

/**
 * The modules a pipeline may import, and what each resolves to in the isolate: the runtime's frozen
 * `globalThis.__tau_sdk` (guest.ts).
 */
const SDK_MODULES: Readonly<Record<string, string>> = { tau: "core", "tau/connectors": "connectors", "tau/materializations": "materializations" };

/**
 * Tau modules that exist in the design but not yet in this build. Importing one is refused at deploy
 * with TAU_E_DEPLOY_MODULE_UNAVAILABLE (not IMPORT_FORBIDDEN: the import is right, Tau is behind), so an
 * agent learns it before a run, at the import's line, rather than from a failing run.
 */
const UNAVAILABLE_MODULES: Readonly<Record<string, string>> = {};

const SHIM_NAMESPACE = "tau-sdk";
const PLUGIN_NAME = "tau-imports";
const NODE_BUILTINS = new Set(builtinModules);

function forbiddenImportMessage(path: string): string {
  const available = Object.keys(SDK_MODULES).map((m) => `"${m}"`).join(", ");
  if (path.startsWith("node:") || NODE_BUILTINS.has(path) || NODE_BUILTINS.has(path.split("/")[0]!)) {
    return `Cannot import "${path}": pipelines run in a sandbox without Node.js modules. Do I/O through a connector from "tau/connectors".`;
  }
  if (path.startsWith(".") || path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) {
    return `Cannot import "${path}": a pipeline is deployed as one file, so it cannot import other files. Move the code into this file.`;
  }
  if (path === "tau" || path.startsWith("tau/")) {
    return `Cannot import "${path}": no such Tau module. Pipelines may import ${available}.`;
  }
  return `Cannot import "${path}": npm packages are not available in the sandbox. Pipelines may import only ${available}; inline the code you need.`;
}

const tauImports: Plugin = {
  name: PLUGIN_NAME,
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (Object.prototype.hasOwnProperty.call(SDK_MODULES, args.path)) return { path: args.path, namespace: SHIM_NAMESPACE };
      if (Object.prototype.hasOwnProperty.call(UNAVAILABLE_MODULES, args.path)) {
        return { errors: [{ text: UNAVAILABLE_MODULES[args.path]!, detail: "TAU_E_DEPLOY_MODULE_UNAVAILABLE" }] };
      }
      return { errors: [{ text: forbiddenImportMessage(args.path), detail: "TAU_E_DEPLOY_IMPORT_FORBIDDEN" }] };
    });
    b.onLoad({ filter: /.*/, namespace: SHIM_NAMESPACE }, (args) => ({
      contents: `module.exports = globalThis.__tau_sdk.${SDK_MODULES[args.path]};`,
      loader: "js",
    }));
  },
};

/** esbuild's column counts UTF-8 bytes; editors and TypeScript count UTF-16 units. */
function byteColumnToCharColumn(lineText: string, byteColumn: number): number {
  let bytes = 0;
  let index = 0;
  while (index < lineText.length && bytes < byteColumn) {
    const cp = lineText.codePointAt(index)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    index += cp > 0xffff ? 2 : 1;
  }
  return index;
}

function problemFromEsbuild(message: Message, filename: string): SourceProblem {
  const loc = message.location;
  if (!loc) return { file: filename, line: null, column: null, message: message.text };
  return { file: filename, line: loc.line, column: byteColumnToCharColumn(loc.lineText, loc.column) + 1, message: message.text };
}

function problemsError(code: ErrorCode, summary: string, problems: SourceProblem[]): TauError {
  const first = problems[0];
  const where = first ? `${first.file}${first.line !== null ? `:${first.line}:${first.column}` : ""}` : "";
  const message =
    problems.length === 0 ? summary : `${summary} ${where}: ${first!.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`;
  return new TauError(code, message, { errors: problems.slice(0, ERRORS_LISTED), errorCount: problems.length });
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return typeof err === "object" && err !== null && Array.isArray((err as BuildFailure).errors);
}

function loaderFor(filename: string): "ts" | "js" {
  return /\.(c|m)?js$/i.test(filename) ? "js" : "ts";
}

async function bundle(source: string, filename: string): Promise<{ code: string; map: string }> {
  let result;
  try {
    result = await build({
      stdin: { contents: source, sourcefile: filename, loader: loaderFor(filename) },
      bundle: true,
      format: "iife",
      globalName: "__tau_pipeline_module",
      target: "es2022",
      platform: "neutral",
      sourcemap: "external",
      sourcesContent: true,
      write: false,
      minify: false,
      outfile: "pipeline.js",
      logLevel: "silent",
      // An ES module is strict; the IIFE esbuild makes of it is not unless told (a write to the frozen
      // ctx.params must throw, as it would in the module the agent wrote).
      banner: { js: '"use strict";' },
      plugins: [tauImports],
      // Keep every import (TypeScript would drop unused ones) so a forbidden import is refused even when
      // its bindings are unused; `import type` is still erased.
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
    });
  } catch (err) {
    if (!isBuildFailure(err)) throw err;
    const ours = err.errors.filter((m) => m.pluginName === PLUGIN_NAME);
    const syntax = err.errors.filter((m) => m.pluginName !== PLUGIN_NAME);
    if (syntax.length > 0) {
      throw problemsError("TAU_E_DEPLOY_SYNTAX", "The pipeline file does not compile:", syntax.map((m) => problemFromEsbuild(m, filename)));
    }
    const unavailable = ours.filter((m) => m.detail === "TAU_E_DEPLOY_MODULE_UNAVAILABLE");
    if (unavailable.length > 0 && unavailable.length === ours.length) {
      throw problemsError(
        "TAU_E_DEPLOY_MODULE_UNAVAILABLE",
        "The pipeline imports a Tau module this version does not provide:",
        unavailable.map((m) => problemFromEsbuild(m, filename)),
      );
    }
    throw problemsError(
      "TAU_E_DEPLOY_IMPORT_FORBIDDEN",
      "The pipeline imports a module that cannot run in the sandbox:",
      ours.map((m) => problemFromEsbuild(m, filename)),
    );
  }
  const code = result.outputFiles.find((f) => f.path.endsWith(".js"))?.text;
  const mapText = result.outputFiles.find((f) => f.path.endsWith(".js.map"))?.text;
  if (code === undefined || mapText === undefined) throw new TauError("TAU_E_INTERNAL", "esbuild produced no bundle.");
  // Name the user's file in the map exactly as the client did (esbuild makes it relative to the output).
  const map = JSON.parse(mapText) as { sources: string[] };
  map.sources = map.sources.map((s) => (s.startsWith(`${SHIM_NAMESPACE}:`) ? s : filename));
  return { code, map: JSON.stringify(map) };
}

const checkers = new Map<string, PipelineTypeChecker>();

/** One checker (and its cache of parsed declarations) per SDK folder, for the life of the process. */
function checkerFor(sdkTypesDir: string): PipelineTypeChecker {
  let checker = checkers.get(sdkTypesDir);
  if (!checker) {
    const missing = sdkDeclarationFiles(sdkTypesDir).filter((f) => !existsSync(f));
    if (missing.length > 0) {
      throw new TauError("TAU_E_INTERNAL", "Tau's SDK declarations are missing; build Tau with `npm run build`.", { missing });
    }
    checker = createPipelineTypeChecker({ sdkTypesDir });
    checkers.set(sdkTypesDir, checker);
  }
  return checker;
}

function toProblem(d: TypecheckDiagnostic): SourceProblem {
  return { file: d.file, line: d.line, column: d.column, message: `${d.message} (TS${d.tsCode})` };
}

function validateInput(input: CompileInput): void {
  const invalid = (field: string, message: string): TauError => new TauError("TAU_E_REQUEST_INVALID", message, { field });
  if (typeof input !== "object" || input === null) throw invalid("input", "compilePipeline needs { source, filename }.");
  if (typeof input.source !== "string") throw invalid("source", "The pipeline source must be a string.");
  if (typeof input.filename !== "string" || input.filename.trim() === "" || input.filename.length > FILENAME_MAX) {
    throw invalid("filename", `The filename must be a non-empty string of at most ${FILENAME_MAX} characters.`);
  }
  // The filename is echoed into the bundle's comments and the source map: no control characters.
  if (/[\u0000-\u001f\u007f]/.test(input.filename)) throw invalid("filename", "The filename must not contain control characters.");
  if (input.typecheck !== undefined && typeof input.typecheck !== "boolean") throw invalid("typecheck", "typecheck must be a boolean.");
}

/**
 * Compiles a pipeline file for the sandbox: bundles it with esbuild (IIFE `__tau_pipeline_module`,
 * es2022 so `await using` is lowered, `tau` imports resolved to the guest runtime), then type-checks it
 * against the SDK's declarations unless `typecheck` is false (JavaScript files are not type-checked).
 *
 * Throws TauError: TAU_E_REQUEST_INVALID, TAU_E_DEPLOY_TOO_LARGE, TAU_E_DEPLOY_SYNTAX,
 * TAU_E_DEPLOY_IMPORT_FORBIDDEN, TAU_E_DEPLOY_MODULE_UNAVAILABLE, TAU_E_DEPLOY_TYPECHECK.
 *
 * @example
 * const { bundle, sourceMap, hash } = await compilePipeline({ source, filename: "pipelines/orders.ts" });
 */
export async function compilePipeline(input: CompileInput, options: CompileOptions = {}): Promise<CompiledPipeline> {
  validateInput(input);
  const limit = options.maxSourceBytes ?? MAX_SOURCE_BYTES;
  const sizeBytes = Buffer.byteLength(input.source, "utf8");
  if (sizeBytes > limit) {
    throw new TauError("TAU_E_DEPLOY_TOO_LARGE", `The pipeline source is ${sizeBytes} bytes; the limit is ${limit}.`, {
      limitBytes: limit,
      sizeBytes,
    });
  }
  const hash = createHash("sha256").update(input.source, "utf8").digest("hex");
  const { code, map } = await bundle(input.source, input.filename);

  if (input.typecheck !== false && loaderFor(input.filename) === "ts") {
    const dir = options.sdkTypesDir ?? defaultSdkTypesDir(findPackageRoot());
    const result = await checkerFor(dir).check(input.source, input.filename);
    if (result.syntax.length > 0) {
      throw problemsError("TAU_E_DEPLOY_SYNTAX", "The pipeline file does not compile:", result.syntax.map(toProblem));
    }
    if (result.types.length > 0) {
      throw problemsError("TAU_E_DEPLOY_TYPECHECK", "The pipeline file has type errors:", result.types.map(toProblem));
    }
  }
  return { bundle: code, sourceMap: map, hash };
}

/**
 * Loads esbuild and TypeScript and parses the standard library and SDK declarations once, so the first
 * deploy does not pay for it (about 2 s of CPU on a small machine). Call it in the background at daemon
 * start; it never throws.
 *
 * @example void warmUpCompiler();
 */
export async function warmUpCompiler(options: CompileOptions = {}): Promise<void> {
  const source = 'import { pipeline } from "tau";\nexport default pipeline({ name: "warm_up" }, async (ctx) => ctx.runId);\n';
  try {
    await compilePipeline({ source, filename: "warm-up.ts" }, options);
  } catch {
    // A missing dist/sdk-types is reported by the first real deploy, with its code.
  }
}
