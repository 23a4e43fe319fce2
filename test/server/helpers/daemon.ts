/**
 * Starting real daemons for tests: in-process (`createDaemon` on port 0 with a temporary home) or as the
 * built `dist/server/bin.js` process. Requires `npm run build` (the executors run from dist/).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createDaemon, type Daemon, type DaemonOptions } from "../../../server";

export const REPO = join(__dirname, "../../..");

export function tempHome(): { home: string; remove: () => void } {
  const home = mkdtempSync(join(tmpdir(), "tau-server-test-"));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

export function startDaemon(home: string, options: DaemonOptions = {}): Promise<Daemon> {
  return createDaemon({ home, port: 0, executors: 1, logLevel: "silent", ...options });
}

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts `dist/server/bin.js` in its own process group and waits for its `listening` line. */
export async function spawnDaemon(home: string, args: string[] = []): Promise<DaemonProcess> {
  const child = spawn(process.execPath, ["--no-node-snapshot", join(REPO, "dist/server/bin.js"), "--home", home, "--port", "0", "--executors", "1", ...args], {
    cwd: REPO,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TAU_LOG_LEVEL: "warn" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    void exited.then(({ code }) => reject(new Error(`taud exited (${code}) before listening:\n${stderr}`)));
  });
  const ready = JSON.parse(first) as { event: string; url: string; pid: number };
  if (ready.event !== "listening") throw new Error(`unexpected first line: ${first}`);
  return { child, url: ready.url, pid: ready.pid, exited, stderr: () => stderr };
}

/** Kills a spawned daemon and its executors (the whole process group) at once. */
export function killGroup(daemon: DaemonProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-daemon.child.pid!, signal);
  } catch {
    // Already gone.
  }
}

export async function json<T = unknown>(url: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: init?.method ?? "GET",
    headers: init?.body === undefined ? {} : { "content-type": "application/json" },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A pipeline file with the given name and body (`ctx` in scope). */
export function pipelineSource(name: string, body: string, meta: string = ""): string {
  return `import { pipeline } from "tau";

export default pipeline({ name: "${name}"${meta ? `, ${meta}` : ""} }, async (ctx) => {
${body}
});
`;
}

/** Three no-op steps and a log line, returning { ok: true }. */
export const THREE_STEPS = `  await ctx.step("extract", async (step) => { step.rowsOut = 3; ctx.log("extracted", { rows: 3 }); });
  await ctx.step("transform", async () => 1);
  await ctx.step("load", async (step) => { step.rowsIn = 3; });
  return { ok: true, params: ctx.params };`;

/** Busy-waits `ms` milliseconds inside the guest (there are no timers in the sandbox). */
export function busyWait(ms: string): string {
  return `{ const until = Date.now() + (${ms}); while (Date.now() < until) { /* spin */ } }`;
}
