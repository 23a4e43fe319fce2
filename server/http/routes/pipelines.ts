/**
 * /api/pipelines: deploy, list, inspect, code, and the runs of one pipeline.
 */
import type { FastifyInstance } from "fastify";
import { TauError, Schemas as S, type DeployRequest, type RollbackRequest, type RunRequest } from "../../contract";
import type { PipelineRow } from "../../store";
import { pipelineDetailView, pipelineView, runSummaryView } from "../../views";
import type { ApiContext } from "../context";

const NameParams = {
  type: "object",
  properties: { name: { type: "string", minLength: 1, maxLength: 64, description: "The pipeline's name." } },
  required: ["name"],
} as const;

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };
/** Default bound on `wait`: one hour. */
const DEFAULT_WAIT_MS = 3_600_000;

export async function pipelineRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, deploy, runs } = ctx;

  const findPipeline = async (tenantId: string, name: string): Promise<PipelineRow> => {
    const pipeline = await store.pipelines.findByName(tenantId, name);
    if (!pipeline) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
    return pipeline;
  };
  const refuseWhenClosing = (): void => {
    if (ctx.isClosing()) throw new TauError("TAU_E_DAEMON_SHUTTING_DOWN");
  };

  app.post<{ Body: DeployRequest }>(
    "/api/pipelines",
    {
      config: { access: "operate" },
      schema: {
        operationId: "deployPipeline",
        summary: "Deploy a pipeline file: a new immutable version, or nothing when it is unchanged.",
        tags: ["pipelines"],
        body: S.DeployRequest,
        response: { 200: S.DeployResponse, 201: S.DeployResponse, ...errors },
      },
    },
    async (request, reply) => {
      refuseWhenClosing();
      const result = await deploy.deploy(request.tenantId, request.body);
      return reply.code(result.changed ? 201 : 200).send(result);
    },
  );

  app.get(
    "/api/pipelines",
    {
      config: { access: "read" },
      schema: {
        operationId: "listPipelines",
        summary: "Every pipeline with its last run, by name.",
        tags: ["pipelines"],
        response: { 200: { type: "array", items: S.PipelineView }, ...errors },
      },
    },
    async (request) => {
      const [pipelines, lastRuns] = await Promise.all([store.pipelines.list(request.tenantId), store.runs.latestPerPipeline(request.tenantId)]);
      return pipelines.map((p) => pipelineView(p, lastRuns.get(p.id)));
    },
  );

  app.get<{ Params: { name: string } }>(
    "/api/pipelines/:name",
    {
      config: { access: "read" },
      schema: {
        operationId: "getPipeline",
        summary: "One pipeline with its versions (newest first) and last run.",
        tags: ["pipelines"],
        params: NameParams,
        response: { 200: S.PipelineDetailView, ...errors },
      },
    },
    async (request) => {
      const pipeline = await findPipeline(request.tenantId, request.params.name);
      const [versions, [lastRun]] = await Promise.all([
        store.pipelines.versions(pipeline.id),
        store.runs.listForPipeline(request.tenantId, pipeline.id, 1),
      ]);
      return pipelineDetailView(pipeline, lastRun ?? null, versions);
    },
  );

  app.get<{ Params: { name: string }; Querystring: { version?: number } }>(
    "/api/pipelines/:name/code",
    {
      config: { access: "read" },
      schema: {
        operationId: "getPipelineCode",
        summary: "The source of a version as it was deployed (default: the current version).",
        tags: ["pipelines"],
        params: NameParams,
        querystring: { type: "object", properties: { version: { type: "integer", minimum: 1 } } },
        response: { 200: S.CodeView, ...errors },
      },
    },
    async (request) => {
      const pipeline = await findPipeline(request.tenantId, request.params.name);
      const version = request.query.version ?? pipeline.currentVersion;
      const code = await store.pipelines.code(pipeline.id, version);
      if (!code) {
        throw new TauError("TAU_E_VERSION_NOT_FOUND", `Pipeline '${pipeline.name}' has no version ${version}.`, {
          name: pipeline.name,
          version,
          currentVersion: pipeline.currentVersion,
        });
      }
      return { name: pipeline.name, version: code.version, hash: code.hash, filename: code.filename, source: code.source };
    },
  );

  app.post<{ Params: { name: string }; Body: RunRequest | undefined }>(
    "/api/pipelines/:name/runs",
    {
      config: { access: "operate" },
      schema: {
        operationId: "runPipeline",
        summary: "Queue a run of the current version; with wait, answer when it has ended (bounded by waitMs).",
        tags: ["runs"],
        params: NameParams,
        body: S.RunRequest,
        response: { 200: S.RunView, 201: S.RunView, ...errors },
      },
    },
    async (request, reply) => {
      refuseWhenClosing();
      const body = request.body ?? {};
      const params = body.params ?? {};
      if (typeof params !== "object" || params === null || Array.isArray(params)) {
        throw new TauError("TAU_E_PARAMS_INVALID", undefined, { received: Array.isArray(params) ? "array" : params === null ? "null" : typeof params });
      }
      const queued = await runs.enqueue(request.tenantId, request.params.name, { params, trigger: "manual" });
      if (!body.wait) return reply.code(201).send(queued);

      // Stop waiting when the client goes away. Waiting goes through retries: the answer is the last attempt.
      const abort = new AbortController();
      const onClose = (): void => abort.abort();
      reply.raw.once("close", onClose);
      let last = queued.id;
      try {
        last = await runs.waitFor(request.tenantId, queued.id, body.waitMs ?? DEFAULT_WAIT_MS, abort.signal);
      } finally {
        reply.raw.off("close", onClose);
      }
      return reply.code(201).send((await runs.view(request.tenantId, last)) ?? queued);
    },
  );

  app.post<{ Params: { name: string }; Body: RollbackRequest | undefined }>(
    "/api/pipelines/:name/rollback",
    {
      config: { access: "operate" },
      schema: {
        operationId: "rollbackPipeline",
        summary: "Make an existing version current again (default: the newest version older than the current one); its meta comes with it.",
        tags: ["pipelines"],
        params: NameParams,
        body: S.RollbackRequest,
        response: { 200: S.RollbackResponse, ...errors },
      },
    },
    async (request) => {
      refuseWhenClosing();
      return deploy.rollback(request.tenantId, request.params.name, request.body?.to);
    },
  );

  app.get<{ Params: { name: string }; Querystring: { last: number } }>(
    "/api/pipelines/:name/runs",
    {
      config: { access: "read" },
      schema: {
        operationId: "listPipelineRuns",
        summary: "A pipeline's newest runs, newest first.",
        tags: ["runs"],
        params: NameParams,
        querystring: { type: "object", properties: { last: { type: "integer", minimum: 1, maximum: 1000, default: 10 } } },
        response: { 200: { type: "array", items: S.RunSummary }, ...errors },
      },
    },
    async (request) => {
      const pipeline = await findPipeline(request.tenantId, request.params.name);
      return (await store.runs.listForPipeline(request.tenantId, pipeline.id, request.query.last)).map(runSummaryView);
    },
  );

  app.get<{ Params: { name: string } }>(
    "/api/pipelines/:name/last-run",
    {
      config: { access: "read" },
      schema: {
        operationId: "getLastRun",
        summary: "A pipeline's newest run, with steps and logs.",
        tags: ["runs"],
        params: NameParams,
        response: { 200: S.RunView, ...errors },
      },
    },
    async (request) => {
      const pipeline = await findPipeline(request.tenantId, request.params.name);
      const [last] = await store.runs.listForPipeline(request.tenantId, pipeline.id, 1);
      const view = last ? await runs.view(request.tenantId, last.id) : null;
      if (!view) throw new TauError("TAU_E_NO_RUNS", `Pipeline '${pipeline.name}' has not run yet.`, { name: pipeline.name });
      return view;
    },
  );
}
