/**
 * Runs the BUILT `tau` (dist/cli/bin.js, from `npm run build`) as a child process, asynchronously so a
 * loopback daemon in the test's own process keeps answering.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { SchemaSet } from "./json-schema";

export const ROOT = join(__dirname, "..", "..", "..");
export const TAU_BIN = join(ROOT, "dist", "cli", "bin.js");
export const schemas = new SchemaSet(join(ROOT, "cli", "schemas"));

export interface TauResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface TauRunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  bin?: string;
  timeoutMs?: number;
  /** Called with each chunk of stdout as it arrives (follow mode). */
  onStdout?: (chunk: string) => void;
}

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function assertBuilt(): void {
  if (!existsSync(TAU_BIN)) throw new Error(`${TAU_BIN} is missing: run \`npm run build\` before these tests`);
}

export function tau(args: string[], options: TauRunOptions = {}): Promise<TauResult> {
  const env: Record<string, string | undefined> = { ...process.env, TAU_HOST: undefined, TAU_TOKEN: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? TAU_BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      options.onStdout?.(c);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tau ${args.join(" ")} did not exit within ${options.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Asserts that stdout is exactly one 2-space-indented JSON document with a trailing newline, printed
 * with sorted keys, that it matches the command's schema, and returns it.
 */
export function oneDocument(result: TauResult, schemaFile: string): any {
  const { stdout } = result;
  expect(stdout.endsWith("}\n") || stdout.endsWith("]\n"), `stdout must end with one newline: ${JSON.stringify(stdout.slice(-20))}`).toBe(true);
  let value: unknown;
  expect(() => (value = JSON.parse(stdout)), `stdout is not one JSON document:\n${stdout}\nstderr:\n${result.stderr}`).not.toThrow();
  expect(stdout).toBe(`${JSON.stringify(value, null, 2)}\n`);
  expect(unsortedKeyPaths(value)).toEqual([]);
  expect(schemas.validate(schemaFile, value), `${schemaFile}:\n${stdout}`).toEqual([]);
  return value;
}

/** Asserts the error document shape and code, and returns the error body. */
export function errorDocument(result: TauResult, code: string): any {
  const doc = oneDocument(result, "error.schema.json");
  expect(doc.error.code, result.stdout).toBe(code);
  return doc.error;
}

/** Paths of objects whose keys are not in sorted order (a run's `result` is printed as stored). */
export function unsortedKeyPaths(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unsortedKeyPaths(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  const keys = Object.keys(value);
  const here = keys.join() === [...keys].sort().join() ? [] : [path];
  return [
    ...here,
    ...keys.filter((k) => k !== "result").flatMap((k) => unsortedKeyPaths((value as Record<string, unknown>)[k], `${path}.${k}`)),
  ];
}
