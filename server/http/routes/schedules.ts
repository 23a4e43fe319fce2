/**
 * /api/pipelines/:name/schedule and /api/pipelines/:name/depends: what `tau schedule` and `tau depends`
 * show and change (docs/scheduling.md).
 */
import type { FastifyInstance } from "fastify";
import { TauError, Schemas as S, type DependsRequest, type ScheduleRequest } from "../../contract";
import type { ApiContext } from "../context";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };
const NameParams = {
  type: "object",
  properties: { name: { type: "string", minLength: 1, maxLength: 64, description: "The pipeline's name." } },
  required: ["name"],
} as const;

export async function scheduleRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { schedules, dag } = ctx;
  const refuseWhenClosing = (): void => {
    if (ctx.isClosing()) throw new TauError("TAU_E_DAEMON_SHUTTING_DOWN");
  };

  app.get<{ Params: { name: string } }>(
    "/api/pipelines/:name/schedule",
    {
      config: { access: "read" },
      schema: {
        operationId: "getSchedule",
        summary: "A pipeline's schedule in effect, where it comes from, its next and last fire.",
        tags: ["schedules"],
        params: NameParams,
        response: { 200: S.ScheduleView, ...errors },
      },
    },
    (request) => schedules.view(request.tenantId, request.params.name),
  );

  app.post<{ Params: { name: string }; Body: ScheduleRequest | undefined }>(
    "/api/pipelines/:name/schedule",
    {
      config: { access: "operate" },
      schema: {
        operationId: "changeSchedule",
        summary: "Set a cron expression (with a time zone) or an interval, enable or disable, or return to the file's schedule.",
        tags: ["schedules"],
        params: NameParams,
        body: S.ScheduleRequest,
        response: { 200: S.ScheduleView, ...errors },
      },
    },
    (request) => {
      refuseWhenClosing();
      return schedules.change(request.tenantId, request.params.name, request.body ?? {});
    },
  );

  app.get<{ Params: { name: string } }>(
    "/api/pipelines/:name/depends",
    {
      config: { access: "read" },
      schema: {
        operationId: "getDependencies",
        summary: "A pipeline's dependencies in effect, its dependents, and dependencies that are not deployed.",
        tags: ["dag"],
        params: NameParams,
        response: { 200: S.DependsView, ...errors },
      },
    },
    (request) => dag.depends(request.tenantId, request.params.name),
  );

  app.post<{ Params: { name: string }; Body: DependsRequest | undefined }>(
    "/api/pipelines/:name/depends",
    {
      config: { access: "operate" },
      schema: {
        operationId: "setDependencies",
        summary: "Replace a pipeline's dependencies (refused with TAU_E_DAG_CYCLE when they would close a cycle), or reset to the file's.",
        tags: ["dag"],
        params: NameParams,
        body: S.DependsRequest,
        response: { 200: S.DependsView, ...errors },
      },
    },
    (request) => {
      refuseWhenClosing();
      return dag.setDepends(request.tenantId, request.params.name, request.body ?? {});
    },
  );
}
