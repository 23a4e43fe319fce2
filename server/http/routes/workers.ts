/**
 * GET /api/workers: the `taud worker` processes (docs/workers.md). Like /api/status, where a worker lives
 * (host, pid) is the operator's business: in hosted mode only a platform admin sees it, and a tenant's
 * `running` counts only that tenant's runs.
 */
import type { FastifyInstance } from "fastify";
import { Schemas as S, type WorkersView } from "../../contract";
import type { ApiContext } from "../context";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };

export async function workerRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    "/api/workers",
    {
      config: { access: "read" },
      schema: {
        operationId: "listWorkers",
        summary: "The worker processes runs execute on (empty when runs execute on the daemon's own executors).",
        tags: ["system"],
        response: { 200: S.WorkersView, ...errors },
      },
    },
    async (request): Promise<WorkersView> => {
      if (!ctx.workers) return { runsOn: "local", workers: [] };
      const admin = ctx.tenants.isPlatformAdmin(request.principal);
      const { rows, running } = await ctx.workers.workers(admin ? null : request.tenantId);
      return {
        runsOn: "workers",
        workers: rows.map((w) => ({
          id: w.id,
          host: admin ? w.host : null,
          pid: admin ? w.pid : null,
          capacity: w.capacity,
          executors: w.executors,
          running: running.get(w.id) ?? 0,
          leaseSec: w.leaseSec,
          state: w.state,
          startedAt: w.startedAt.toISOString(),
          heartbeatAt: w.heartbeatAt.toISOString(),
          endedAt: w.endedAt === null ? null : w.endedAt.toISOString(),
        })),
      };
    },
  );
}
