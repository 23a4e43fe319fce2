/**
 * /api/runs and /api/errors: one run, its stored events, cancelling it, and recent failures across pipelines.
 */
import type { FastifyInstance } from "fastify";
import { TauError, Schemas as S } from "../../contract";
import { runSummaryView } from "../../views";
import type { ApiContext } from "../context";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };
const IdParams = {
  type: "object",
  properties: { id: { type: "string", minLength: 1, maxLength: 64, description: "The run's id (run_…)." } },
  required: ["id"],
} as const;

export async function runRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, runs } = ctx;
  const notFound = (id: string): TauError => new TauError("TAU_E_RUN_NOT_FOUND", `No run with id '${id}'.`, { id });

  app.get<{ Params: { id: string } }>(
    "/api/runs/:id",
    {
      config: { access: "read" },
      schema: {
        operationId: "getRun",
        summary: "A run with its steps and newest log lines.",
        tags: ["runs"],
        params: IdParams,
        response: { 200: S.RunView, ...errors },
      },
    },
    async (request) => {
      const view = await runs.view(request.tenantId, request.params.id);
      if (!view) throw notFound(request.params.id);
      return view;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { afterSeq: number; limit: number } }>(
    "/api/runs/:id/events",
    {
      config: { access: "read" },
      schema: {
        operationId: "getRunEvents",
        summary: "A run's stored events with seq > afterSeq, oldest first; page with lastSeq while hasMore.",
        tags: ["runs"],
        params: IdParams,
        querystring: {
          type: "object",
          properties: {
            afterSeq: { type: "integer", minimum: 0, default: 0 },
            limit: { type: "integer", minimum: 1, maximum: 10_000, default: 10_000 },
          },
        },
        response: { 200: S.EventPage, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { afterSeq, limit } = request.query;
      if ((await store.runs.status(request.tenantId, id)) === null) throw notFound(id);
      // One more than asked tells whether another page exists.
      const events = await store.events.page({ tenantId: request.tenantId, runId: id }, afterSeq, limit + 1);
      const hasMore = events.length > limit;
      if (hasMore) events.pop();
      return { events, lastSeq: events.at(-1)?.seq ?? afterSeq, hasMore };
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/runs/:id/cancel",
    {
      config: { access: "operate" },
      schema: {
        operationId: "cancelRun",
        summary:
          "Cancel a run: a queued run or pending retry at once, a running one within about a second (its isolate is disposed). Given an attempt whose retry is pending, the retry is cancelled. Answers with the run.",
        tags: ["runs"],
        params: IdParams,
        response: { 200: S.RunView, ...errors },
      },
    },
    async (request) => runs.cancel(request.tenantId, request.params.id),
  );

  app.get<{ Querystring: { limit: number; pipeline?: string } }>(
    "/api/errors",
    {
      config: { access: "read" },
      schema: {
        operationId: "listErrors",
        summary: "Recent failed runs across all pipelines (or one), most recently finished first.",
        tags: ["runs"],
        querystring: {
          type: "object",
          properties: {
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 20 },
            pipeline: { type: "string", minLength: 1, maxLength: 64, description: "Only this pipeline's failures." },
          },
        },
        response: { 200: { type: "array", items: S.RunSummary }, ...errors },
      },
    },
    async (request) => {
      const { limit, pipeline: name } = request.query;
      let pipelineId: number | undefined;
      if (name !== undefined) {
        const head = await store.pipelines.head(request.tenantId, name);
        if (!head) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
        pipelineId = head.id;
      }
      return (await store.runs.recentFailed(request.tenantId, limit, pipelineId)).map(runSummaryView);
    },
  );
}
