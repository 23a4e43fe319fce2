/**
 * Deploy: compile → describe in a sandbox → validate → store a new immutable version (or nothing, when the
 * same file with the same meta is already current). Every check happens before the one write, so a
 * rejected deploy leaves the pipeline exactly as it was.
 */
import { ERRORS, TauError, type DeployRequest, type DeployResponse, type RollbackResponse, type RunError } from "../contract";
import type { Policy } from "../../policies";
import { validateMeta, withRunControlDefaults, type PipelineMeta } from "../../sandbox";
import type { CompilePipeline, ExecutorPoolPort } from "../sandbox-port";
import type { PipelineRow, RunRow, Store } from "../store";
import { pipelineView } from "../views";

export interface DeployServiceOptions {
  store: Store;
  pool: Pick<ExecutorPoolPort, "describe">;
  compile: CompilePipeline;
  policy: Policy;
  /** The DAG's cycle check and the scheduler's re-planning (server/dag, server/scheduler); none in unit tests. */
  hooks?: DeployHooks;
}

/** What the DAG and the scheduler need to see of a deploy or rollback. */
export interface DeployHooks {
  /** Wraps the write that makes a new version current: may refuse it (TAU_E_DAG_CYCLE); serialises graph changes. */
  guard<T>(tenantId: string, meta: { name: string; dependsOn: string[] }, existing: PipelineRow | null, write: () => Promise<T>): Promise<T>;
  /** After a version became current (its schedule may have changed). Never throws. */
  changed(tenantId: string, name: string): Promise<void>;
}

const NO_HOOKS: DeployHooks = { guard: (_t, _m, _e, write) => write(), changed: async () => undefined };

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
      if (existing && current && current.hash === compiled.hash && current.filename === request.filename && sameMeta(withRunControlDefaults(current.meta), meta)) {
        const lastRun = await this.lastRun(tenantId, existing);
        return { pipeline: pipelineView(existing, lastRun), version: existing.currentVersion, hash: current.hash, changed: false, warnings };
      }
      const hooks = this.options.hooks ?? NO_HOOKS;
      const added = await hooks.guard(tenantId, meta, existing, () =>
        store.pipelines.addVersion({
          tenantId,
          meta,
          filename: request.filename,
          hash: compiled.hash,
          source: request.source,
          bundle: compiled.bundle,
          sourceMap: compiled.sourceMap,
        }),
      );
      const { version } = added;
      await hooks.changed(tenantId, meta.name);
      // Re-read: the scheduler has just planned the next fire on the row.
      const pipeline = (this.options.hooks && (await store.pipelines.findByName(tenantId, meta.name))) || added.pipeline;
      const lastRun = existing ? await this.lastRun(tenantId, pipeline) : null;
      return { pipeline: pipelineView(pipeline, lastRun), version, hash: compiled.hash, changed: true, warnings };
    });
  }

  /**
   * Makes an existing version current again (`tau rollback`): the pointer moves, no version is written, so
   * version numbers keep meaning "what was deployed when". The version's meta comes with it (schedule,
   * timeouts, retries, …) exactly as if it had just been deployed. `to` defaults to the newest version older
   * than the current one, so repeated rollbacks walk back one version at a time. Serialised with deploys
   * of the same name.
   */
  async rollback(tenantId: string, name: string, to?: number): Promise<RollbackResponse> {
    const { store } = this.options;
    return this.serialised(`${tenantId}\0${name}`, async () => {
      const pipeline = await store.pipelines.findByName(tenantId, name);
      if (!pipeline) throw new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${name}'.`, { name });
      const from = pipeline.currentVersion;
      const versions = await store.pipelines.versions(pipeline.id);
      const target = to === undefined ? versions.find((v) => v.version < from) : versions.find((v) => v.version === to);
      if (!target) {
        const known = versions.map((v) => v.version);
        throw to === undefined
          ? new TauError("TAU_E_VERSION_NOT_FOUND", `Pipeline '${name}' has no version older than its current version ${from} to roll back to.`, {
              name,
              currentVersion: from,
              versions: known,
            }, "Deploy a fixed file with `tau deploy FILE`, or pass --to N with one of details.versions.")
          : new TauError("TAU_E_VERSION_NOT_FOUND", `Pipeline '${name}' has no version ${to}.`, { name, version: to, currentVersion: from, versions: known });
      }
      if (target.version === from) {
        const lastRun = await this.lastRun(tenantId, pipeline);
        return { pipeline: pipelineView(pipeline, lastRun), from, to: from, changed: false };
      }
      const meta = withRunControlDefaults({ ...target.meta, name: pipeline.name });
      const hooks = this.options.hooks ?? NO_HOOKS;
      let updated = await hooks.guard(tenantId, meta, pipeline, () => store.pipelines.setCurrentVersion(pipeline.id, target.version, target.filename, meta));
      await hooks.changed(tenantId, name);
      if (this.options.hooks) updated = (await store.pipelines.findByName(tenantId, name)) ?? updated;
      const lastRun = await this.lastRun(tenantId, updated);
      return { pipeline: pipelineView(updated, lastRun), from, to: target.version, changed: true };
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
    (a.timezone ?? null) === (b.timezone ?? null) &&
    a.timeoutSec === b.timeoutSec &&
    a.retries === b.retries &&
    a.retryDelaySec === b.retryDelaySec &&
    a.maxConcurrentRuns === b.maxConcurrentRuns &&
    JSON.stringify(a.retryOn) === JSON.stringify(b.retryOn) &&
    JSON.stringify(a.tags) === JSON.stringify(b.tags) &&
    JSON.stringify(a.dependsOn) === JSON.stringify(b.dependsOn)
  );
}
