/**
 * Deploy: compile → describe in a sandbox → validate → store a new immutable version (or nothing, when the
 * same file with the same meta is already current). Every check happens before the one write, so a
 * rejected deploy leaves the pipeline exactly as it was.
 */
import { ERRORS, TauError, type DeployRequest, type DeployResponse, type RunError } from "../contract";
import type { Policy } from "../../policies";
import { validateMeta, type PipelineMeta } from "../../sandbox";
import type { CompilePipeline, ExecutorPoolPort } from "../sandbox-port";
import type { PipelineRow, RunRow, Store } from "../store";
import { pipelineView } from "../views";

export interface DeployServiceOptions {
  store: Store;
  pool: Pick<ExecutorPoolPort, "describe">;
  compile: CompilePipeline;
  policy: Policy;
}

export class DeployService {
  /** Deploys of one pipeline name run one at a time, so versions are numbered without conflicts. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly options: DeployServiceOptions) {}

  async deploy(tenantId: string, request: DeployRequest): Promise<DeployResponse> {
    const { store, pool, compile, policy } = this.options;
    const compiled = await compile({ source: request.source, filename: request.filename, typecheck: request.typecheck ?? true });
    const described = await pool.describe({ bundle: compiled.bundle, sourceMap: compiled.sourceMap, filename: request.filename }, policy);
    if (!described.ok) throw deployFailure(described.error, request.filename);
    const meta = applyOverrides(described.meta, request);

    return this.serialised(`${tenantId}\0${meta.name}`, async () => {
      const existing = await store.pipelines.findByName(tenantId, meta.name);
      if (existing && existing.filename !== request.filename && request.replace !== true) {
        throw new TauError("TAU_E_DEPLOY_NAME_TAKEN", `Pipeline '${meta.name}' is deployed from ${existing.filename}, not ${request.filename}.`, {
          name: meta.name,
          deployedFilename: existing.filename,
          filename: request.filename,
        });
      }
      const current = existing ? await store.pipelines.version(existing.id, existing.currentVersion) : null;
      const warnings = await this.warnings(tenantId, meta);
      if (existing && current && current.hash === compiled.hash && current.filename === request.filename && sameMeta(current.meta, meta)) {
        const lastRun = await this.lastRun(tenantId, existing);
        return { pipeline: pipelineView(existing, lastRun), version: existing.currentVersion, hash: current.hash, changed: false, warnings };
      }
      const { pipeline, version } = await store.pipelines.addVersion({
        tenantId,
        meta,
        filename: request.filename,
        hash: compiled.hash,
        source: request.source,
        bundle: compiled.bundle,
        sourceMap: compiled.sourceMap,
      });
      const lastRun = existing ? await this.lastRun(tenantId, pipeline) : null;
      return { pipeline: pipelineView(pipeline, lastRun), version, hash: compiled.hash, changed: true, warnings };
    });
  }

  private async lastRun(tenantId: string, pipeline: PipelineRow): Promise<RunRow | null> {
    const [run] = await this.options.store.runs.listForPipeline(tenantId, pipeline.id, 1);
    return run ?? null;
  }

  private async warnings(tenantId: string, meta: PipelineMeta): Promise<string[]> {
    if (meta.dependsOn.length === 0) return [];
    const deployed = new Set((await this.options.store.pipelines.list(tenantId)).map((p) => p.name));
    return meta.dependsOn
      .filter((name) => !deployed.has(name))
      .map((name) => `dependsOn names '${name}', which is not deployed: this pipeline will wait for it until it is.`);
  }

  private async serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.inFlight.set(key, next);
    try {
      return await next;
    } finally {
      if (this.inFlight.get(key) === next) this.inFlight.delete(key);
    }
  }
}

/**
 * The request's name and schedule win over the file's meta; the result is validated again like the meta
 * itself (name pattern, cron via croner, no self-dependency). An empty schedule removes the file's schedule.
 */
function applyOverrides(described: PipelineMeta, request: DeployRequest): PipelineMeta {
  const schedule = request.schedule === undefined ? described.schedule : request.schedule.trim() === "" ? null : request.schedule.trim();
  const validated = validateMeta({ ...described, name: request.name ?? described.name, schedule });
  if (!validated.ok) throw deployFailure(validated.error, request.filename);
  return validated.meta;
}

/**
 * A sandbox error with a deploy code passes through; anything else (the file's top-level code threw, hit
 * a limit, or crashed its executor) becomes TAU_E_DEPLOY_EVALUATION_FAILED with the cause attached.
 */
function deployFailure(error: RunError, filename: string): TauError {
  const where = { filename, line: error.line, column: error.column };
  if (ERRORS[error.code].status >= 400) {
    return new TauError(error.code, error.message, { ...error.details, ...where }, error.hint);
  }
  return new TauError("TAU_E_DEPLOY_EVALUATION_FAILED", `Evaluating ${filename} failed: ${error.message}`, {
    ...where,
    cause: { code: error.code, message: error.message, step: error.step, line: error.line, column: error.column },
  });
}

function sameMeta(a: PipelineMeta, b: PipelineMeta): boolean {
  return (
    a.name === b.name &&
    a.description === b.description &&
    a.schedule === b.schedule &&
    a.timeoutSec === b.timeoutSec &&
    JSON.stringify(a.tags) === JSON.stringify(b.tags) &&
    JSON.stringify(a.dependsOn) === JSON.stringify(b.dependsOn)
  );
}
