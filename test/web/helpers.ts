/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (never a downloaded browser),
 * a TCP proxy in front of taud whose connections a test can cut (the browser then sees the server close
 * its WebSocket), deploy/run over HTTP, and the screenshot folder.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import type { RunView } from "../../server/contract";
import { ROOT } from "../e2e/harness";

export const SHOTS = join(ROOT, "test-output", "web");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium at /usr/bin/chromium with a fresh profile folder (a persistent context), removed on close. */
export async function launchBrowser(): Promise<TestBrowser> {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "tau-web-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    reducedMotion: "reduce",
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface CuttingProxy {
  url: string;
  /** WebSocket connections seen so far (each Upgrade request). */
  webSocketConnections(): number;
  /** The head of each WebSocket upgrade request, as sent by the browser. */
  upgradeRequests(): string[];
  /**
   * Destroys every open WebSocket connection, both sides, as a crashing server or proxy would, and refuses
   * new connections for `holdMs` (so that events happen while the page is disconnected).
   */
  cutWebSockets(holdMs?: number): number;
  close(): Promise<void>;
}

/** A plain TCP proxy to `target` (http://host:port) that tells WebSocket connections from the rest. */
export async function startProxy(target: string): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<{ client: Socket; upstream: Socket; ws: boolean }>();
  let upgrades = 0;
  const heads: string[] = [];
  let refuseUntil = 0;
  const server: Server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: hostname, port: Number(port) });
    const pair = { client, upstream, ws: false };
    sockets.add(pair);
    client.once("data", (chunk: Buffer) => {
      const head = chunk.toString("latin1");
      if (/^upgrade:\s*websocket/im.test(head)) {
        pair.ws = true;
        upgrades += 1;
        heads.push(head.split("\r\n\r\n")[0]);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      sockets.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    webSocketConnections: () => upgrades,
    upgradeRequests: () => [...heads],
    cutWebSockets: (holdMs = 0) => {
      refuseUntil = Date.now() + holdMs;
      let cut = 0;
      for (const pair of [...sockets]) {
        if (!pair.ws) continue;
        pair.upstream.destroy();
        pair.client.destroy();
        cut += 1;
      }
      return cut;
    },
    close: async () => {
      for (const pair of sockets) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export async function deploy(url: string, filename: string, source: string): Promise<void> {
  await json(await fetch(`${url}/api/pipelines`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ source, filename }) }));
}

export async function startRun(url: string, name: string, wait = false): Promise<RunView> {
  return json<RunView>(
    await fetch(`${url}/api/pipelines/${name}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ wait }) }),
  );
}

export async function getJson<T>(url: string): Promise<T> {
  return json<T>(await fetch(url));
}

export async function waitForRun(url: string, id: string, timeoutMs = 30_000): Promise<RunView> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = await getJson<RunView>(`${url}/api/runs/${id}`);
    if (["succeeded", "failed", "cancelled", "skipped"].includes(run.status)) return run;
    if (Date.now() > end) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A pipeline file: `import { pipeline } from "tau"` and one default export. */
export function pipelineFile(name: string, meta: string, body: string): string {
  return `import { pipeline } from "tau";

export default pipeline({ name: "${name}"${meta ? `, ${meta}` : ""} }, async (ctx) => {
${body}
});
`;
}

/** Spins the isolate for `ms` (the guest has no timers): how a test pipeline takes its time. */
export const spin = (ms: number): string => `{ const until = Date.now() + ${ms}; while (Date.now() < until) { /* spin */ } }`;
