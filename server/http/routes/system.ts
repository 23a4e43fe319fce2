/**
 * /api/status, /api/version and /api/openapi.json.
 */
import type { FastifyInstance } from "fastify";
import { API_VERSION, Schemas as S, type StatusView, type VersionView } from "../../contract";
import { iso } from "../../store";
import type { ApiContext } from "../context";
import type { RouteCatalog } from "../openapi";

/** Live workers and their slots (GET /api/workers has each one). */
async function workerSummary(workers: NonNullable<ApiContext["workers"]>): Promise<NonNullable<StatusView["workers"]>> {
  const { rows } = await workers.workers(null);
  const live = rows.filter((w) => w.state === "active" || w.state === "draining");
  return {
    active: live.filter((w) => w.state === "active").length,
    draining: live.filter((w) => w.state === "draining").length,
    capacity: live.filter((w) => w.state === "active").reduce((sum, w) => sum + w.capacity, 0),
  };
}

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };

export async function systemRoutes(app: FastifyInstance, ctx: ApiContext & { catalog: RouteCatalog }): Promise<void> {
  const { daemon } = ctx;

  app.get(
    "/api/status",
    {
      config: { access: "read" },
      schema: {
        operationId: "getStatus",
        summary: "The daemon: version, mode, home, queue and executors.",
        tags: ["system"],
        response: { 200: S.StatusView, ...errors },
      },
    },
    async (request): Promise<StatusView> => {
      const now = Date.now();
      // Where the daemon lives on its host (home folder, pids) is the operator's business: in hosted mode only
      // a platform admin sees it; tenants see the figures that concern them.
      const host = ctx.tenants.isPlatformAdmin(request.principal);
      return {
        status: "ok",
        version: daemon.version,
        mode: daemon.mode,
        home: host ? daemon.home : null,
        pid: host ? daemon.pid : null,
        startedAt: iso(daemon.startedAt),
        uptimeMs: now - daemon.startedAt,
        pipelines: await ctx.store.pipelines.count(request.tenantId),
        // The tenant's own runs: in hosted mode, other tenants' activity is not theirs to see.
        runs: ctx.runs.counts(request.tenantId),
        executors: host ? ctx.pool.status() : ctx.pool.status().map((e) => ({ ...e, pid: null })),
        runsOn: ctx.workers ? "workers" : "local",
        workers: ctx.workers ? await workerSummary(ctx.workers) : null,
      };
    },
  );

  app.get(
    "/api/version",
    {
      config: { access: "public" },
      schema: {
        operationId: "getVersion",
        summary: "The daemon's version and API version.",
        tags: ["system"],
        response: { 200: S.VersionView, ...errors },
      },
    },
    async (): Promise<VersionView> => ({ name: "tau", version: daemon.version, apiVersion: API_VERSION, node: process.version }),
  );

  // Built on first request: by then every route is registered.
  let document: Record<string, unknown> | undefined;
  app.get(
    "/api/openapi.json",
    {
      config: { access: "public" },
      schema: {
        operationId: "getOpenApi",
        summary: "This document: every route with its JSON Schemas (OpenAPI 3.1).",
        tags: ["system"],
        response: { 200: { type: "object", additionalProperties: true }, ...errors },
      },
    },
    async () => (document ??= ctx.catalog.document({ version: daemon.version })),
  );
}
