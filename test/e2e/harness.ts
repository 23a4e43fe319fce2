/**
 * Drives the real binaries: `node dist/server/bin.js` (taud) and `node dist/cli/bin.js` (tau). Build first
 * (`npm test` does). Each daemon gets its own temporary TAU_HOME and port 0.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = join(__dirname, "..", "..");
const TAUD = join(ROOT, "dist/server/bin.js");
const TAU = join(ROOT, "dist/cli/bin.js");

export interface Daemon {
  url: string;
  home: string;
  pid: number;
  proc: ChildProcess;
  stderr: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (a crash). */
  kill(): Promise<void>;
}

export function tempHome(prefix = "tau-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startDaemon(opts: { home?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<Daemon> {
  const home = opts.home ?? tempHome();
  const proc = spawn(process.execPath, [TAUD, "--home", home, "--port", "0", ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`taud did not start in 30 s:\n${err}`)), 30_000);
    proc.once("exit", (code, signal) => reject(new Error(`taud exited (${code ?? signal}) before listening:\n${err}`)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === "listening" && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        /* not a JSON line */
      }
    });
  });
  const waitExit = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    home,
    pid: proc.pid!,
    proc,
    stderr: () => err,
    stop: () => waitExit("SIGTERM"),
    kill: () => waitExit("SIGKILL"),
  };
}

export interface TauResult {
  code: number;
  json: any;
  stdout: string;
  stderr: string;
}

/** Runs `tau ARGS` against the daemon and parses its one JSON document. */
export async function tau(daemon: Pick<Daemon, "url"> | null, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TauResult> {
  const proc = spawn(process.execPath, [TAU, ...args], {
    env: { ...process.env, TAU_HOST: daemon?.url ?? "http://127.0.0.1:9", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d) => (stdout += d));
  proc.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number>((resolve) => proc.on("close", (c) => resolve(c ?? -1)));
  let json: unknown = undefined;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`tau ${args.join(" ")} printed no single JSON document (exit ${code}):\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return { code, json, stdout, stderr };
}

/** Writes a pipeline file into a temp folder and returns its path. */
export function pipelineFile(dir: string, name: string, source: string): string {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, source);
  return file;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function builtOrThrow(): void {
  const r = spawnSync("test", ["-f", TAUD, "-a", "-f", TAU]);
  if (r.status !== 0) throw new Error("dist/ is missing: run `npm run build` first");
}
