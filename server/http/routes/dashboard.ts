/**
 * Read endpoints the dashboard's charts need and the rest of the API does not have: each pipeline's run
 * history as points (duration, rows, status) — the sparklines of the Pipelines view and the run-history
 * chart of the Pipeline view — in one request instead of one per pipeline and run.
 */
import type { FastifyInstance } from "fastify";
import { TauError, Schemas as S, type HistoryView, type RunPoint } from "../../contract";
import { iso, isoOrNull, type RunPointRecord } from "../../store";
import type { ApiContext } from "../context";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };

const Points = { type: "array", items: S.RunPoint };

export async function dashboardRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store } = ctx;

  app.get<{ Querystring: { last: number } }>(
    "/api/history",
    {
      config: { access: "read" },
      schema: {
        operationId: "listHistory",
        summary: "Every pipeline's newest runs as chart points (newest first), by pipeline name.",
        tags: ["dashboard"],
        querystring: { type: "object", properties: { last: { type: "integer", minimum: 1, maximum: 200, default: 20 } } },
        response: { 200: S.HistoryView, ...errors },
      },
    },
    async (request): Promise<HistoryView> => {
      const pipelines: Record<string, RunPoint[]> = {};
      for (const [name, records] of await store.history.all(request.tenantId, request.query.last)) pipelines[name] = records.map(runPoint);
      return { pipelines };
    },
  );

  app.get<{ Params: { name: string }; Querystring: { last: number } }>(
    "/api/pipelines/:name/history",
    {
      config: { access: "read" },
      schema: {
        operationId: "getPipelineHistory",
        summary: "A pipeline's newest runs as chart points (newest first).",
        tags: ["dashboard"],
        params: {
          type: "object",
          properties: { name: { type: "string", minLength: 1, maxLength: 64, description: "The pipeline's name." } },
          required: ["name"],
        },
        querystring: { type: "object", properties: { last: { type: "integer", minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: Points, ...errors },
      },
    },
    async (request): Promise<RunPoint[]> => {
      const { name } = request.params;
      const records = await store.history.of(request.tenantId, name, request.query.last);
      if (records === null) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
      return records.map(runPoint);
    },
  );
}

function runPoint(r: RunPointRecord): RunPoint {
  return {
    id: r.id,
    version: r.version,
    status: r.status,
    trigger: r.trigger,
    queuedAt: iso(r.queuedAt),
    startedAt: isoOrNull(r.startedAt),
    finishedAt: isoOrNull(r.finishedAt),
    durationMs: r.startedAt !== null && r.finishedAt !== null ? Math.max(0, r.finishedAt - r.startedAt) : null,
    rowsIn: r.rowsIn,
    rowsOut: r.rowsOut,
    errorCode: r.errorCode,
  };
}
