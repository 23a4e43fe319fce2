/**
 * A loopback stand-in for taud that answers the real routes with the real shapes (server/contract/api.ts)
 * over real HTTP and a real WebSocket. It runs "pipelines" by emitting the events a run would:
 * params `{fail: true}` makes a run fail, `{delayMs: N}` spaces its events N ms apart.
 * Used until the real daemon can be started in tests; protocol-level, nothing of the CLI is mocked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import {
  ERRORS,
  type CodeView,
  type DeployRequest,
  type ErrorCode,
  type PipelineDetailView,
  type RunEvent,
  type RunEventKind,
  type RunRequest,
  type RunSummary,
  type RunView,
  type WsServerMessage,
} from "../../../server/contract";

export interface FakeDaemonOptions {
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Close each WebSocket after it has sent this many events (tests reconnection). */
  dropWebSocketEvery?: number;
  /** false: a subscription gets only live events, history must come from GET /api/runs/:id/events. */
  replayOnSubscribe?: boolean;
  /** false: GET /api/runs/:id/events answers 404, so history comes only from the WebSocket. */
  eventsRoute?: boolean;
  /** Cap on RunRequest.waitMs, as a real daemon may impose (tests the CLI's polling). */
  maxWaitMs?: number;
}

export interface FakeDaemon {
  url: string;
  /** Starts a run as `POST /api/pipelines/:name/runs` would, without waiting; returns its id. */
  startRun(pipeline: string, params: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
  /** How many WebSocket connections were opened (reconnection test). */
  wsConnections(): number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function startFakeDaemon(options: FakeDaemonOptions = {}): Promise<FakeDaemon> {
  const pipelines = new Map<string, { view: PipelineDetailView; sources: string[] }>();
  const runs = new Map<string, RunView>();
  const events: RunEvent[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<{ ws: WebSocket; runId: string; sent: number }>();
  const timers = new Set<NodeJS.Timeout>();
  let wsConnections = 0;
  let runCounter = 0;
  const startedAt = Date.now();

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const emit = (run: RunView, kind: RunEventKind, extra: Partial<RunEvent> = {}): void => {
    const event: RunEvent = {
      seq: events.length + 1,
      runId: run.id,
      pipeline: run.pipeline,
      ts: iso(Date.now()),
      kind,
      level: null,
      step: null,
      message: null,
      data: null,
      ...extra,
    };
    events.push(event);
    for (const sub of [...sockets]) if (sub.runId === run.id) send(sub, event);
    for (const wake of [...waiters]) wake();
  };

  const send = (sub: { ws: WebSocket; runId: string; sent: number }, event: RunEvent): void => {
    const message: WsServerMessage = { type: "event", event };
    sub.ws.send(JSON.stringify(message));
    sub.sent += 1;
    if (options.dropWebSocketEvery !== undefined && sub.sent >= options.dropWebSocketEvery) {
      sockets.delete(sub);
      sub.ws.terminate();
    }
  };

  const execute = (run: RunView, delayMs: number, fail: boolean): void => {
    const steps: Array<() => void> = [
      () => {
        run.status = "running";
        run.startedAt = iso(Date.now());
        emit(run, "run.started");
      },
      () => {
        run.steps.push({ name: "extract", status: "running", startedAt: iso(Date.now()), finishedAt: null, durationMs: null, rowsIn: null, rowsOut: null, meta: {}, error: null });
        emit(run, "step.started", { step: "extract" });
      },
      () => {
        const line = { seq: events.length + 1, ts: iso(Date.now()), level: "info" as const, step: "extract", message: "extracted 3 rows", fields: { rows: 3 } };
        run.logs.push(line);
        emit(run, "log", { level: "info", step: "extract", message: line.message, data: line.fields });
      },
      () => {
        const step = run.steps[0];
        step.status = fail ? "failed" : "succeeded";
        step.finishedAt = iso(Date.now());
        step.durationMs = 1;
        step.rowsOut = fail ? null : 3;
        if (fail) step.error = { code: "TAU_E_PIPELINE_ERROR", message: "boom" };
        emit(run, "step.finished", { step: "extract", data: { status: step.status } });
      },
      () => {
        run.status = fail ? "failed" : "succeeded";
        run.finishedAt = iso(Date.now());
        run.durationMs = 2;
        run.result = fail ? null : { zeta: 1, alpha: [3, 2, 1] };
        run.error = fail
          ? { code: "TAU_E_PIPELINE_ERROR", message: "boom", hint: ERRORS.TAU_E_PIPELINE_ERROR.hint, step: "extract", line: 7, column: 13, details: {} }
          : null;
        emit(run, "run.finished", { data: { status: run.status } });
      },
    ];
    steps.forEach((step, i) => later(delayMs * (i + 1), step));
  };

  const summary = (run: RunView): RunSummary => {
    const { steps: _steps, logs: _logs, ...rest } = run;
    return rest;
  };

  const refuse = (res: ServerResponse, code: ErrorCode, message?: string, details: Record<string, unknown> = {}): void => {
    const spec = ERRORS[code];
    json(res, spec.status, { error: { code, message: message ?? spec.message, hint: spec.hint, details } });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? "GET";
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return refuse(res, "TAU_E_REQUEST_INVALID", "Missing or wrong bearer token.", { status: 401 });
    }
    const body = method === "POST" ? await readJson(req) : undefined;

    if (parts[0] !== "api") return refuse(res, "TAU_E_ROUTE_NOT_FOUND");
    const [, a, b, c] = parts;

    if (a === "version" && method === "GET") return json(res, 200, { name: "tau", version: "0.1.0", apiVersion: "1", node: process.version });
    if (a === "status" && method === "GET") {
      const all = [...runs.values()];
      return json(res, 200, {
        status: "ok",
        version: "0.1.0",
        mode: "local",
        home: "/tmp/fake-tau-home",
        pid: process.pid,
        startedAt: iso(startedAt),
        uptimeMs: Date.now() - startedAt,
        pipelines: pipelines.size,
        runs: { queued: all.filter((r) => r.status === "queued").length, running: all.filter((r) => r.status === "running").length },
        executors: [{ id: 0, pid: process.pid, state: "ready", running: 0, restarts: 0 }],
        runsOn: "local",
        workers: null,
      });
    }
    if (a === "errors" && method === "GET") {
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const failed = [...runs.values()].filter((r) => r.status === "failed").reverse().slice(0, limit);
      return json(res, 200, failed.map(summary));
    }
    if (a === "runs" && b !== undefined) {
      const run = runs.get(b);
      if (!run) return refuse(res, "TAU_E_RUN_NOT_FOUND", `No run ${b}.`, { runId: b });
      if (c === undefined) return json(res, 200, run);
      if (c === "events" && options.eventsRoute !== false) {
        const after = Number(url.searchParams.get("afterSeq") ?? 0);
        return json(res, 200, events.filter((e) => e.runId === b && e.seq > after));
      }
    }
    if (a === "pipelines" && b === undefined && method === "POST") {
      const request = body as DeployRequest;
      if (typeof request?.source !== "string" || typeof request.filename !== "string") {
        return refuse(res, "TAU_E_REQUEST_INVALID", "source and filename are required.");
      }
      if (request.source.includes("syntax error")) {
        return refuse(res, "TAU_E_DEPLOY_SYNTAX", undefined, { errors: [{ file: request.filename, line: 1, column: 1, message: "Unexpected token" }] });
      }
      const name = request.name ?? /name:\s*"([^"]+)"/.exec(request.source)?.[1];
      if (!name) return refuse(res, "TAU_E_DEPLOY_NO_PIPELINE");
      const now = iso(Date.now());
      const existing = pipelines.get(name);
      const changed = !existing || existing.sources[existing.sources.length - 1] !== request.source;
      const entry = existing ?? {
        sources: [],
        view: {
          name, description: "", tags: [], schedule: null, enabled: true, everySec: null, timezone: null, nextRunAt: null, dependsOn: [], timeoutSec: null,
          retries: 0, retryDelaySec: 10, maxConcurrentRuns: 1, currentVersion: 0, filename: request.filename, createdAt: now, updatedAt: now, lastRun: null, versions: [],
        },
      };
      if (!existing) pipelines.set(name, entry);
      if (changed) {
        entry.sources.push(request.source);
        entry.view.currentVersion = entry.sources.length;
        entry.view.versions.push({ version: entry.sources.length, hash: `sha256:${entry.sources.length}`, createdAt: now, sourceBytes: Buffer.byteLength(request.source), filename: request.filename });
      }
      entry.view.schedule = request.schedule ?? entry.view.schedule;
      const { versions: _v, ...pipeline } = entry.view;
      return json(res, 200, { pipeline, version: entry.view.currentVersion, hash: `sha256:${entry.view.currentVersion}`, changed, warnings: request.typecheck === false ? ["type check skipped"] : [] });
    }
    if (a === "pipelines" && b === undefined && method === "GET") {
      return json(res, 200, [...pipelines.values()].map(({ view: { versions: _v, ...p } }) => p));
    }
    if (a === "pipelines" && b !== undefined) {
      const entry = pipelines.get(b);
      if (!entry) return refuse(res, "TAU_E_PIPELINE_NOT_FOUND", `No pipeline named ${b}.`, { name: b });
      const own = [...runs.values()].filter((r) => r.pipeline === b);
      if (c === undefined && method === "GET") return json(res, 200, entry.view);
      if (c === "code") {
        const version = Number(url.searchParams.get("version") ?? entry.view.currentVersion);
        const source = entry.sources[version - 1];
        if (source === undefined) return refuse(res, "TAU_E_VERSION_NOT_FOUND", undefined, { name: b, version });
        const view: CodeView = { name: b, version, hash: `sha256:${version}`, filename: entry.view.filename, source };
        return json(res, 200, view);
      }
      if (c === "last-run") {
        const last = own[own.length - 1];
        return last ? json(res, 200, last) : refuse(res, "TAU_E_NO_RUNS", undefined, { name: b });
      }
      if (c === "runs" && method === "GET") {
        const last = Number(url.searchParams.get("last") ?? 20);
        return json(res, 200, own.reverse().slice(0, last).map(summary));
      }
      if (c === "runs" && method === "POST") {
        const request = (body ?? {}) as RunRequest;
        const params = request.params ?? {};
        runCounter += 1;
        const run: RunView = {
          id: `run_${String(runCounter).padStart(4, "0")}`, pipeline: b, version: entry.view.currentVersion, status: "queued", trigger: "manual", params,
          attempt: 1, maxAttempts: 1, retryOf: null, retriedBy: null, notBefore: null, graphRunId: null,
          queuedAt: iso(Date.now()), startedAt: null, finishedAt: null, durationMs: null, steps: [], result: null, error: null, logs: [],
        };
        runs.set(run.id, run);
        emit(run, "run.queued");
        execute(run, Number(params.delayMs ?? 0), params.fail === true);
        if (request.wait) {
          const deadline = Date.now() + Math.min(request.waitMs ?? 30_000, options.maxWaitMs ?? Number.POSITIVE_INFINITY);
          await new Promise<void>((resolve) => {
            const check = (): void => {
              if (["succeeded", "failed", "skipped", "cancelled"].includes(run.status) || Date.now() >= deadline) {
                waiters.delete(check);
                resolve();
              }
            };
            waiters.add(check);
            later(Math.max(0, deadline - Date.now()), check);
            check();
          });
        }
        return json(res, 200, run);
      }
    }
    return refuse(res, "TAU_E_ROUTE_NOT_FOUND", `No route ${method} ${url.pathname}.`);
  };

  const server = createServer((req, res) => {
    // TAU_HOST path prefixes that make every answer go wrong in one way (the CLI keeps the prefix).
    if (req.url?.startsWith("/html/")) {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>not tau</html>");
      return;
    }
    if (req.url?.startsWith("/broken/")) {
      json(res, 500, { error: { code: "TAU_E_INTERNAL", message: "Internal error in Tau.", hint: ERRORS.TAU_E_INTERNAL.hint, details: {} } });
      return;
    }
    if (req.url?.startsWith("/foreign/")) {
      json(res, 404, { statusCode: 404, error: "Not Found", message: "Route GET:/foreign/api/status not found" });
      return;
    }
    route(req, res).catch((err: unknown) => json(res, 500, { error: { code: "TAU_E_INTERNAL", message: String(err), hint: "", details: {} } }));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    if (req.url !== "/api/events" || (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\r\n" + JSON.stringify({ error: { code: "TAU_E_REQUEST_INVALID", message: "no", hint: "", details: {} } }));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      wsConnections += 1;
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; runId?: string; afterSeq?: number };
        if (msg.type !== "subscribe" || typeof msg.runId !== "string") return;
        if (!runs.has(msg.runId)) {
          ws.send(JSON.stringify({ type: "error", error: { code: "TAU_E_RUN_NOT_FOUND", message: "No run.", hint: "" } }));
          return;
        }
        const sub = { ws, runId: msg.runId, sent: 0 };
        const lastSeq = events.length;
        ws.send(JSON.stringify({ type: "subscribed", runId: msg.runId, lastSeq }));
        sockets.add(sub);
        for (const event of options.replayOnSubscribe === false ? [] : events) {
          if (event.runId === msg.runId && event.seq > (msg.afterSeq ?? 0) && sockets.has(sub)) send(sub, event);
        }
      });
      ws.on("close", () => {
        for (const sub of sockets) if (sub.ws === ws) sockets.delete(sub);
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    startRun: async (pipeline, params) => {
      const res = await fetch(`${url}/api/pipelines/${pipeline}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        body: JSON.stringify({ params }),
      });
      return ((await res.json()) as RunView).id;
    },
    wsConnections: () => wsConnections,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}
