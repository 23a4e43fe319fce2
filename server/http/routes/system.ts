/**
 * /api/status, /api/version and /api/openapi.json.
 */
import type { FastifyInstance } from "fastify";
import { API_VERSION, type StatusView, type VersionView } from "../../contract";
import { iso } from "../../store";
import type { ApiContext } from "../context";
import type { RouteCatalog } from "../openapi";
import * as S from "../schemas";

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
      return {
        status: "ok",
        version: daemon.version,
        mode: daemon.mode,
        home: daemon.home,
        pid: daemon.pid,
        startedAt: iso(daemon.startedAt),
        uptimeMs: now - daemon.startedAt,
        pipelines: await ctx.store.pipelines.count(request.tenantId),
        // The tenant's own runs: in hosted mode, other tenants' activity is not theirs to see.
        runs: ctx.runs.counts(request.tenantId),
        executors: ctx.pool.status(),
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
