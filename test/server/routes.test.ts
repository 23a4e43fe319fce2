import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, ERROR_CODES, type StatusView } from "../../server/contract";
import type { Daemon } from "../../server";
import { json, startDaemon, tempHome } from "./helpers/daemon";

let daemon: Daemon;
const home = tempHome();

beforeAll(async () => {
  daemon = await startDaemon(home.home);
});
afterAll(async () => {
  await daemon?.close();
  home.remove();
});

const EXPECTED_ROUTES = [
  "delete /api/secrets/{name}",
  "get /api/dag",
  "get /api/dag/runs/{id}",
  "get /api/errors",
  "get /api/events",
  "get /api/history",
  "get /api/openapi.json",
  "get /api/pipelines",
  "get /api/pipelines/{name}",
  "get /api/pipelines/{name}/code",
  "get /api/pipelines/{name}/depends",
  "get /api/pipelines/{name}/history",
  "get /api/pipelines/{name}/last-run",
  "get /api/pipelines/{name}/runs",
  "get /api/pipelines/{name}/schedule",
  "get /api/policy",
  "get /api/runs/{id}",
  "get /api/runs/{id}/events",
  "get /api/secrets",
  "get /api/status",
  "get /api/tenants",
  "get /api/version",
  "get /api/workers",
  "post /api/dag/runs",
  "post /api/pipelines",
  "post /api/pipelines/{name}/depends",
  "post /api/pipelines/{name}/rollback",
  "post /api/pipelines/{name}/runs",
  "post /api/pipelines/{name}/schedule",
  "post /api/runs/{id}/cancel",
  "post /api/tenants",
  "post /api/tokens",
  "put /api/policy",
  "put /api/secrets/{name}",
];

function expectErrorBody(body: unknown, code: string): void {
  expect(body).toEqual({ error: { code, message: expect.any(String), hint: expect.any(String), details: expect.any(Object) } });
}

describe("HTTP API", () => {
  it("serves status over a real socket with the port actually bound", async () => {
    expect(daemon.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(daemon.url).not.toMatch(/:0$/);
    const { status, body } = await json<StatusView>(`${daemon.url}/api/status`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", mode: "local", home: home.home, pid: process.pid, pipelines: 0, runs: { queued: 0, running: 0 } });
    expect(Object.keys(body)).toEqual(["status", "version", "mode", "home", "pid", "startedAt", "uptimeMs", "pipelines", "runs", "executors", "runsOn", "workers"]);
    expect(body).toMatchObject({ runsOn: "local", workers: null });
    expect(body.executors).toHaveLength(1);
    expect(body.executors[0]).toMatchObject({ id: 0, state: "ready", running: 0 });
    expect(body.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("lists no workers when runs execute on the daemon's own executors", async () => {
    const { status, body } = await json(`${daemon.url}/api/workers`);
    expect(status).toBe(200);
    expect(body).toEqual({ runsOn: "local", workers: [] });
  });

  it("reports its version and API version", async () => {
    const { body } = await json(`${daemon.url}/api/version`);
    expect(body).toEqual({ name: "tau", version: expect.stringMatching(/^\d+\.\d+\.\d+/), apiVersion: API_VERSION, node: process.version });
  });

  it("answers an unknown route with TAU_E_ROUTE_NOT_FOUND", async () => {
    const { status, body } = await json(`${daemon.url}/api/nothing/here?x=1`);
    expect(status).toBe(404);
    expectErrorBody(body, "TAU_E_ROUTE_NOT_FOUND");
    expect((body as { error: { details: unknown } }).error.details).toEqual({ method: "GET", path: "/api/nothing/here" });
  });

  it("answers a request that fails its schema with TAU_E_REQUEST_INVALID naming the fields", async () => {
    const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source: 42, extra: true } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expectErrorBody(body, "TAU_E_REQUEST_INVALID");
    const issues = body.error.details.issues as Array<{ in: string; message: string }>;
    expect(issues.every((i) => i.in === "body")).toBe(true);
    expect(issues.map((i) => i.message).join(" | ")).toMatch(/filename/);
    const query = await daemon.app.inject({ method: "GET", url: "/api/errors?limit=0" });
    expect(query.statusCode).toBe(400);
    expect(query.json().error.details.issues[0]).toMatchObject({ in: "querystring", path: "/limit" });
  });

  it("answers malformed JSON and a wrong content type with TAU_E_REQUEST_INVALID", async () => {
    const bad = await daemon.app.inject({ method: "POST", url: "/api/pipelines", headers: { "content-type": "application/json" }, payload: "{nope" });
    expect(bad.statusCode).toBe(400);
    expectErrorBody(bad.json(), "TAU_E_REQUEST_INVALID");
    const text = await daemon.app.inject({ method: "POST", url: "/api/pipelines", headers: { "content-type": "text/plain" }, payload: "hi" });
    expect(text.statusCode).toBe(400);
    expectErrorBody(text.json(), "TAU_E_REQUEST_INVALID");
  });

  it("answers a body over the limit with TAU_E_REQUEST_TOO_LARGE and the limit", async () => {
    const limit = 6 * daemon.options.maxSourceBytes + 64 * 1024;
    const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source: "x".repeat(limit), filename: "big.ts" } });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: "TAU_E_REQUEST_TOO_LARGE", details: { limitBytes: limit } });
  });

  it("answers a source over the deploy limit with TAU_E_DEPLOY_TOO_LARGE", async () => {
    const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source: "x".repeat(daemon.options.maxSourceBytes + 1), filename: "big.ts" } });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: "TAU_E_DEPLOY_TOO_LARGE", details: { limitBytes: daemon.options.maxSourceBytes } });
  });

  it("answers unknown pipelines and runs with their own codes", async () => {
    for (const [url, code] of [
      ["/api/pipelines/ghost", "TAU_E_PIPELINE_NOT_FOUND"],
      ["/api/pipelines/ghost/code", "TAU_E_PIPELINE_NOT_FOUND"],
      ["/api/pipelines/ghost/runs", "TAU_E_PIPELINE_NOT_FOUND"],
      ["/api/runs/run_nope", "TAU_E_RUN_NOT_FOUND"],
      ["/api/runs/run_nope/events", "TAU_E_RUN_NOT_FOUND"],
    ]) {
      const res = await daemon.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expectErrorBody(res.json(), code!);
    }
  });

  it("answers a plain GET of the event stream with an error telling to upgrade", async () => {
    const res = await daemon.app.inject({ method: "GET", url: "/api/events" });
    expect(res.statusCode).toBe(400);
    expectErrorBody(res.json(), "TAU_E_REQUEST_INVALID");
  });

  it("publishes an OpenAPI 3.1 document listing every route with its schemas", async () => {
    const { body } = await json<{
      openapi: string;
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; parameters?: Array<{ name: string; in: string }> }>>;
      components: { schemas: Record<string, unknown> };
    }>(`${daemon.url}/api/openapi.json`);
    expect(body.openapi).toBe("3.1.0");
    const routes = Object.entries(body.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(routes.sort()).toEqual(EXPECTED_ROUTES);
    // Nothing is served that is not described: fastify's own route table has as many (non-HEAD) routes,
    // and each documented one exists there.
    const served = daemon.app.printRoutes({ commonPrefix: false }).match(/\b(GET|POST|PUT|PATCH|DELETE)\b/g) ?? [];
    // (+1: the dashboard's GET /*, which serves its files and is not an API route.)
    expect(served).toHaveLength(EXPECTED_ROUTES.length + 1);
    for (const route of EXPECTED_ROUTES) {
      const [method, path] = route.split(" ");
      expect(daemon.app.hasRoute({ method: method!.toUpperCase() as "GET", url: path!.replace(/\{(\w+)\}/g, ":$1") }), route).toBe(true);
    }

    const run = body.paths["/api/pipelines/{name}/runs"]!.post!;
    expect(run.operationId).toBe("runPipeline");
    expect(run.parameters).toEqual([expect.objectContaining({ name: "name", in: "path" })]);
    expect(run.responses["201"]).toEqual({ description: "Created", content: { "application/json": { schema: { $ref: "#/components/schemas/RunView" } } } });
    expect(run.responses["4XX"]).toMatchObject({ content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } } });
    expect(Object.keys(body.components.schemas)).toEqual(expect.arrayContaining(["RunView", "PipelineView", "DeployRequest", "RunEvent", "WsClientMessage"]));
    // The error code enum in the document is the registry.
    const errorBody = body.components.schemas.ErrorBody as { properties: { code: { enum: string[] } } };
    expect(errorBody.properties.code.enum).toEqual([...ERROR_CODES]);
    // Components refer to each other instead of repeating themselves.
    const runView = body.components.schemas.RunView as { properties: { steps: { items: unknown } } };
    expect(runView.properties.steps.items).toEqual({ $ref: "#/components/schemas/StepView" });
  });

  it("refuses new deploys and runs once shutdown has begun, with TAU_E_DAEMON_SHUTTING_DOWN", async () => {
    const other = tempHome();
    const closing = await startDaemon(other.home);
    const closed = closing.close();
    const res = await closing.app.inject({ method: "POST", url: "/api/pipelines/x/runs", payload: {} });
    await closed;
    other.remove();
    expect(res.statusCode).toBe(503);
    expectErrorBody(res.json(), "TAU_E_DAEMON_SHUTTING_DOWN");
  });
});
