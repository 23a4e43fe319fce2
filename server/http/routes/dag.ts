/**
 * /api/dag: the pipeline graph (JSON, or Mermaid/dot text) and graph runs (docs/scheduling.md).
 */
import type { FastifyInstance } from "fastify";
import { TauError, Schemas as S, type GraphRunRequest } from "../../contract";
import type { ApiContext } from "../context";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };
/** Default bound on `wait`: one hour. */
const DEFAULT_WAIT_MS = 3_600_000;

export async function dagRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { dag } = ctx;

  app.get<{ Querystring: { format: "json" | "mermaid" | "dot" } }>(
    "/api/dag",
    {
      config: { access: "read" },
      schema: {
        operationId: "getDag",
        summary: "The pipeline graph: nodes, edges, parallel groups (topological levels); or a Mermaid/dot picture with format.",
        tags: ["dag"],
        querystring: { type: "object", properties: { format: { type: "string", enum: ["json", "mermaid", "dot"], default: "json" } } },
        response: { 200: { anyOf: [S.DagView, S.DagTextView] }, ...errors },
      },
    },
    (request) => (request.query.format === "json" ? dag.view(request.tenantId) : dag.text(request.tenantId, request.query.format)),
  );

  app.post<{ Body: GraphRunRequest | undefined }>(
    "/api/dag/runs",
    {
      config: { access: "operate" },
      schema: {
        operationId: "startGraphRun",
        summary: "Run the graph (or `from` and everything downstream) group by group; with wait, answer when it has ended.",
        tags: ["dag"],
        body: S.GraphRunRequest,
        response: { 201: S.GraphRunView, ...errors },
      },
    },
    async (request, reply) => {
      if (ctx.isClosing()) throw new TauError("TAU_E_DAEMON_SHUTTING_DOWN");
      const body = request.body ?? {};
      const started = await dag.startGraphRun(request.tenantId, { from: body.from });
      if (body.wait) {
        const abort = new AbortController();
        const onClose = (): void => abort.abort();
        reply.raw.once("close", onClose);
        try {
          await dag.waitGraphRun(started.id, body.waitMs ?? DEFAULT_WAIT_MS, abort.signal);
        } finally {
          reply.raw.off("close", onClose);
        }
      }
      return reply.code(201).send((await dag.graphRun(request.tenantId, started.id)) ?? started);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/dag/runs/:id",
    {
      config: { access: "read" },
      schema: {
        operationId: "getGraphRun",
        summary: "A graph run with the state of each of its pipelines.",
        tags: ["dag"],
        params: { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 64 } }, required: ["id"] },
        response: { 200: S.GraphRunView, ...errors },
      },
    },
    async (request) => {
      const view = await dag.graphRun(request.tenantId, request.params.id);
      if (!view) throw new TauError("TAU_E_GRAPH_RUN_NOT_FOUND", `No graph run with id '${request.params.id}'.`, { id: request.params.id });
      return view;
    },
  );
}
