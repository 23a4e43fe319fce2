/**
 * What taud serves for the dashboard, over real HTTP and WebSockets: the static files with the SPA
 * fallback, the history endpoints behind the charts, the tenant-wide event subscription, and the
 * WebSocket heartbeat that drops dead peers.
 */
import websocket from "@fastify/websocket";
import fastify, { type FastifyInstance } from "fastify";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryView, RunEvent, RunPoint, RunView, WsServerMessage } from "../../server/contract";
import type { Daemon } from "../../server";
import { EventBus } from "../../server/event-bus";
import type { ApiContext } from "../../server/http/context";
import { installErrorHandlers } from "../../server/http/errors";
import { eventRoutes } from "../../server/http/routes/events";
import { webRoutes } from "../../server/http/routes/web";
import { Store } from "../../server/store";
import { startDaemon, tempHome } from "../server/helpers/daemon";
import { pipelineFile, spin } from "./helpers";

let daemon: Daemon;
const home = tempHome();

const ROWS = pipelineFile(
  "webhist_rows",
  "",
  `  const n = await ctx.step("extract", async (step) => { step.rowsOut = 500; return 500; });
  await ctx.step("transform", async (step) => { step.rowsIn = n; step.rowsOut = 450; });
  await ctx.step("notify", async () => { ${spin(5)} });
  if (ctx.params.fail) throw new Error("asked to fail");
  return { n };`,
);
const QUIET = pipelineFile("webhist_quiet", "", `  ctx.log("hello");\n  return 1;`);

async function run(name: string, params: Record<string, unknown> = {}): Promise<RunView> {
  const res = await daemon.app.inject({ method: "POST", url: `/api/pipelines/${name}/runs`, payload: { wait: true, params } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as RunView;
}

beforeAll(async () => {
  daemon = await startDaemon(home.home);
  for (const [source, filename] of [
    [ROWS, "webhist_rows.ts"],
    [QUIET, "webhist_quiet.ts"],
  ]) {
    const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source, filename } });
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(async () => {
  await daemon?.close();
  home.remove();
});

describe("the dashboard's files", () => {
  it("are served at / with a strict content security policy", async () => {
    const res = await fetch(`${daemon.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toContain('<div id="app">');
    const js = await fetch(`${daemon.url}/app.js`);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await js.text()).length).toBeGreaterThan(10_000);
  });

  it("answer index.html for any other path outside /api, and keep /api's not-found error", async () => {
    for (const path of ["/pipelines/orders", "/runs/run_1/anything", "/dag"]) {
      const res = await fetch(`${daemon.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<div id="app">');
    }
    for (const path of ["/api/nope", "/api", "/api/pipelines/x/nope"]) {
      const res = await fetch(`${daemon.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TAU_E_ROUTE_NOT_FOUND");
    }
  });

  it("stay out of the OpenAPI document, which lists the history routes", async () => {
    const doc = (await (await fetch(`${daemon.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/history", "/api/pipelines/{name}/history"]));
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith("/api/"))).toEqual([]);
  });

  it("are replaced by TAU_E_DASHBOARD_NOT_BUILT with a hint when the build is missing", async () => {
    const app = fastify({ logger: false });
    installErrorHandlers(app, 1024);
    await webRoutes(app, null);
    const res = await app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(503);
    const { error } = res.json() as { error: { code: string; hint: string } };
    expect(error.code).toBe("TAU_E_DASHBOARD_NOT_BUILT");
    expect(error.hint).toContain("npm run build");
    await app.close();
  });
});

describe("run history for charts", () => {
  it("gives each pipeline's newest runs with duration, rows in and out, and the error code", async () => {
    const ok1 = await run("webhist_rows");
    const failed = await run("webhist_rows", { fail: true });
    const ok2 = await run("webhist_rows");
    expect(failed.status).toBe("failed");
    const res = await fetch(`${daemon.url}/api/pipelines/webhist_rows/history?last=2`);
    expect(res.status).toBe(200);
    const points = (await res.json()) as RunPoint[];
    expect(points.map((p) => p.id)).toEqual([ok2.id, failed.id]);
    expect(points[0]).toMatchObject({ status: "succeeded", rowsIn: 500, rowsOut: 450, errorCode: null, durationMs: ok2.durationMs, version: 1, trigger: "manual" });
    expect(points[1]).toMatchObject({ status: "failed", errorCode: "TAU_E_PIPELINE_ERROR", rowsOut: 450 });

    const all = (await (await fetch(`${daemon.url}/api/history?last=5`)).json()) as HistoryView;
    expect(Object.keys(all.pipelines).sort()).toEqual(["webhist_quiet", "webhist_rows"]);
    expect(all.pipelines.webhist_rows.map((p) => p.id)).toEqual([ok2.id, failed.id, ok1.id]);
    expect(all.pipelines.webhist_quiet).toEqual([]);
  });

  it("refuses an unknown pipeline and an out-of-range count", async () => {
    const missing = await fetch(`${daemon.url}/api/pipelines/nope/history`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("TAU_E_PIPELINE_NOT_FOUND");
    const bad = await fetch(`${daemon.url}/api/history?last=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("TAU_E_REQUEST_INVALID");
  });
});

/** A WebSocket client that records every message. */
function connect(url: string, options: WebSocket.ClientOptions = {}): { ws: WebSocket; messages: WsServerMessage[]; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(`${url.replace("http", "ws")}/api/events`, options);
  const messages: WsServerMessage[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(data.toString()) as WsServerMessage));
  return {
    ws,
    messages,
    opened: new Promise((resolve, reject) => ws.once("open", () => resolve()).once("error", reject)),
    closed: new Promise((resolve) => ws.once("close", (code) => resolve(code))),
  };
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the tenant-wide event subscription", () => {
  it("replays every pipeline's events of the chosen kinds in seq order, then streams new ones", async () => {
    const before = await run("webhist_quiet");
    const client = connect(daemon.url);
    await client.opened;
    client.ws.send(JSON.stringify({ type: "subscribe", all: true, afterSeq: 0, kinds: ["run.finished"] }));
    await until(() => client.messages.some((m) => m.type === "subscribed"));
    const subscribed = client.messages.find((m) => m.type === "subscribed")!;
    expect(subscribed).toMatchObject({ type: "subscribed", all: true });
    const replayed = client.messages.flatMap((m) => (m.type === "event" ? [m.event] : []));
    expect(new Set(replayed.map((e) => e.kind))).toEqual(new Set(["run.finished"]));
    expect(new Set(replayed.map((e) => e.pipeline))).toEqual(new Set(["webhist_rows", "webhist_quiet"]));
    expect(replayed.map((e) => e.runId)).toContain(before.id);
    const seqs = replayed.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const after = await run("webhist_rows");
    await until(() => client.messages.some((m) => m.type === "event" && m.event.runId === after.id));
    const live = client.messages.flatMap((m) => (m.type === "event" && m.event.runId === after.id ? [m.event as RunEvent] : []));
    expect(live.map((e) => e.kind)).toEqual(["run.finished"]);
    client.ws.close();
  });

  it("rejects kinds it does not know and a subscribe naming both a run and all", async () => {
    const client = connect(daemon.url);
    await client.opened;
    client.ws.send(JSON.stringify({ type: "subscribe", all: true, kinds: ["log", "bogus"] }));
    client.ws.send(JSON.stringify({ type: "subscribe", all: true, runId: "run_x" }));
    client.ws.send(JSON.stringify({ type: "subscribe", all: "yes" }));
    await until(() => client.messages.length === 3);
    expect(client.messages.map((m) => (m.type === "error" ? m.error.code : m.type))).toEqual([
      "TAU_E_REQUEST_INVALID",
      "TAU_E_REQUEST_INVALID",
      "TAU_E_REQUEST_INVALID",
    ]);
    client.ws.close();
  });
});

describe("the application-level ping", () => {
  it("is answered with pong, so a browser can tell a live connection from a dead one", async () => {
    const client = connect(daemon.url);
    await client.opened;
    client.ws.send(JSON.stringify({ type: "ping" }));
    client.ws.send(JSON.stringify({ type: "pong" }));
    await until(() => client.messages.length === 2);
    expect(client.messages[0]).toEqual({ type: "pong" });
    expect(client.messages[1]).toMatchObject({ type: "error", error: { code: "TAU_E_REQUEST_INVALID" } });
    client.ws.close();
  });
});

describe("the WebSocket heartbeat", () => {
  let app: FastifyInstance;
  let store: Store;
  const hbHome = tempHome();

  beforeAll(async () => {
    const bus = new EventBus(() => undefined);
    store = await Store.open({ home: hbHome.home, onEvents: (events) => bus.publish(events) });
    app = fastify({ logger: false });
    app.decorateRequest("tenantId", "");
    app.addHook("onRequest", async (request) => {
      request.tenantId = "local";
    });
    await app.register(websocket);
    const ctx = { store, bus, log: app.log, wsMaxBufferedBytes: 1 << 20, wsHeartbeatMs: 150 } as unknown as ApiContext;
    await eventRoutes(app, ctx);
    await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    hbHome.remove();
  });

  it("terminates a peer that stops answering pings and keeps one that answers", async () => {
    const address = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    const dead = connect(url, { autoPong: false });
    const alive = connect(url);
    let pings = 0;
    alive.ws.on("ping", () => (pings += 1));
    await Promise.all([dead.opened, alive.opened]);
    const started = Date.now();
    // Terminated (no close frame: 1006) after the ping it left unanswered, i.e. within two intervals or so.
    expect(await dead.closed).toBe(1006);
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(3);
    alive.ws.send(JSON.stringify({ type: "subscribe", all: true }));
    await until(() => alive.messages.some((m) => m.type === "subscribed"));
    alive.ws.close();
  });
});
