/**
 * Deploy-time type checking of a pipeline file against the SDK's declarations (dist/sdk-types), with the
 * TypeScript compiler API and an in-memory host for the pipeline itself.
 *
 * Speed: the standard library and SDK declarations are parsed and bound once per checker and reused by
 * every later check (a SourceFile keeps its binding, so only the pipeline file is parsed and bound again);
 * `typescript` itself is loaded on first use so the daemon and CLI start without it.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type * as TS from "typescript";

/** One problem, positions 1-based in the file as written (null for problems not tied to a place). */
export interface TypecheckDiagnostic {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
  /** TypeScript's error number, e.g. 2322. */
  tsCode: number;
}

export interface TypecheckResult {
  /** Problems TypeScript's parser found (esbuild accepts some code that TypeScript rejects). */
  syntax: TypecheckDiagnostic[];
  /** Type errors (only looked for when there are no syntax errors). */
  types: TypecheckDiagnostic[];
}

export interface PipelineTypeCheckerOptions {
  /** Folder with the SDK's declarations: index.d.ts (`tau`), connectors.d.ts (`tau/connectors`), materializations.d.ts (`tau/materializations`). */
  sdkTypesDir: string;
}

export interface PipelineTypeChecker {
  check(source: string, filename: string): Promise<TypecheckResult>;
}

type TypeScript = typeof TS;

let typescript: Promise<TypeScript> | null = null;

function loadTypeScript(): Promise<TypeScript> {
  typescript ??= import("typescript").then((mod) => ((mod as { default?: TypeScript }).default ?? mod) as TypeScript);
  return typescript;
}

/** The pipeline lives at a virtual path; errors are reported under the filename the client gave. */
const VIRTUAL_DIR = "/__tau_deploy__";
const PIPELINE_PATH = `${VIRTUAL_DIR}/pipeline.ts`;
/** Globals the guest runtime provides beyond the ES library: its console writes to the run's log. */
const GLOBALS_PATH = `${VIRTUAL_DIR}/tau-globals.d.ts`;
const GLOBALS_SOURCE = `/** Writes to the run's log; prefer ctx.log for structured fields. */
declare var console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  trace(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
};
`;

function compilerOptions(ts: TypeScript, sdkTypesDir: string): TS.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowJs: false,
    baseUrl: sdkTypesDir,
    paths: { tau: ["index.d.ts"], "tau/connectors": ["connectors.d.ts"], "tau/materializations": ["materializations.d.ts"] },
  };
}

interface CachedFile {
  file: TS.SourceFile;
  /** mtime of files that may be rebuilt under a running daemon (the SDK's); null for TypeScript's libs. */
  mtimeMs: number | null;
}

/**
 * Creates a checker. Keep one per SDK folder for the daemon's life: its cache is what makes a warm check
 * fast.
 */
export function createPipelineTypeChecker(options: PipelineTypeCheckerOptions): PipelineTypeChecker {
  const cache = new Map<string, CachedFile>();
  const sdkDir = options.sdkTypesDir;
  let oldProgram: TS.Program | undefined;

  function mtimeOf(fileName: string): number | null {
    try {
      return statSync(fileName).mtimeMs;
    } catch {
      return null;
    }
  }

  async function check(source: string, filename: string): Promise<TypecheckResult> {
    const ts = await loadTypeScript();
    const options = compilerOptions(ts, sdkDir);
    const host = ts.createCompilerHost(options, false);
    const defaultRead = host.readFile.bind(host);
    const defaultExists = host.fileExists.bind(host);
    const isSdkFile = (fileName: string): boolean => fileName.startsWith(sdkDir);

    host.fileExists = (fileName) => fileName === PIPELINE_PATH || fileName === GLOBALS_PATH || cache.has(fileName) || defaultExists(fileName);
    host.readFile = (fileName) => (fileName === PIPELINE_PATH ? source : fileName === GLOBALS_PATH ? GLOBALS_SOURCE : defaultRead(fileName));
    host.writeFile = () => undefined;
    host.getCurrentDirectory = () => VIRTUAL_DIR;
    host.getSourceFile = (fileName, languageVersion, onError) => {
      if (fileName === PIPELINE_PATH) return ts.createSourceFile(fileName, source, languageVersion, false, ts.ScriptKind.TS);
      const hit = cache.get(fileName);
      const mtime = hit && hit.mtimeMs !== null ? mtimeOf(fileName) : null;
      if (hit && (hit.mtimeMs === null || hit.mtimeMs === mtime)) return hit.file;
      const text = fileName === GLOBALS_PATH ? GLOBALS_SOURCE : defaultRead(fileName);
      if (text === undefined) {
        onError?.(`Cannot read ${fileName}`);
        return undefined;
      }
      const file = ts.createSourceFile(fileName, text, languageVersion, false);
      cache.set(fileName, { file, mtimeMs: isSdkFile(fileName) ? mtimeOf(fileName) : null });
      return file;
    };

    const program = ts.createProgram({ rootNames: [PIPELINE_PATH, GLOBALS_PATH], options, host, oldProgram });
    oldProgram = program;
    const pipelineFile = program.getSourceFile(PIPELINE_PATH);
    const toEntry = (d: TS.Diagnostic): TypecheckDiagnostic => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (d.file && d.start !== undefined) {
        const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
        const file = d.file.fileName === PIPELINE_PATH ? filename : d.file.fileName.replace(`${sdkDir}/`, "tau-sdk/");
        return { file, line: line + 1, column: character + 1, message, tsCode: d.code };
      }
      return { file: filename, line: null, column: null, message, tsCode: d.code };
    };
    const syntax = program.getSyntacticDiagnostics(pipelineFile).map(toEntry);
    if (syntax.length > 0) return { syntax, types: [] };
    const types = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSemanticDiagnostics(pipelineFile),
    ].map(toEntry);
    return { syntax: [], types };
  }

  return { check };
}

/** The SDK declaration files a checker needs, for a clear error when dist/ was not built. */
export function sdkDeclarationFiles(sdkTypesDir: string): string[] {
  return [join(sdkTypesDir, "index.d.ts"), join(sdkTypesDir, "connectors.d.ts"), join(sdkTypesDir, "materializations.d.ts")];
}
