/**
 * Pipelines and their immutable versions (ORM: low volume, and the deploy needs a real transaction).
 */
import { RUN_CONTROL_DEFAULTS } from "../../sandbox/meta";
import type { PipelineMeta } from "../../sandbox/types";
import type { Database } from "./database";
import { byteOrder, sql } from "./sql";
import { PipelineEntity, PipelineVersionEntity, TenantEntity, type PipelineRow, type PipelineVersionRow } from "./entities";
import { overridesAfterDeploy } from "./schedules";

/** A version without its large texts (source, bundle, source map). */
export type VersionInfo = Omit<PipelineVersionRow, "source" | "bundle" | "sourceMap" | "pipeline">;

/** What a run needs of its version. */
export interface RunnableVersion {
  filename: string;
  bundle: string;
  sourceMap: string;
  meta: PipelineMeta;
}

export interface CodeRecord {
  version: number;
  hash: string;
  filename: string;
  source: string;
}

export interface NewVersion {
  tenantId: string;
  /** Final name and schedule (overrides applied) are in `meta`. */
  meta: PipelineMeta;
  filename: string;
  hash: string;
  source: string;
  bundle: string;
  sourceMap: string;
}

/** What queuing a run needs to know of its pipeline. */
export interface PipelineHead {
  id: number;
  name: string;
  currentVersion: number;
  /** Run control of the current version (see PipelineRow). */
  retries: number;
  maxConcurrentRuns: number;
}

const S = {
  // Quoted aliases: PostgreSQL folds unquoted identifiers to lower case.
  head: sql(
    `select id, name, current_version as "currentVersion", retries, max_concurrent_runs as "maxConcurrentRuns"
     from pipeline where tenant_id = ? and name = ?`,
  ),
};

const INFO_FIELDS = ["id", "tenantId", "version", "hash", "sourceBytes", "filename", "meta", "createdAt"] as const;

export class PipelineRepository {
  constructor(private readonly db: Database) {}

  /** Creates the tenant row when missing (local mode's "local" tenant at start). */
  async ensureTenant(id: string, name: string): Promise<void> {
    await this.db.query("ensure tenant", async (em) => {
      if (await em.findOne(TenantEntity, { id })) return;
      em.create(TenantEntity, { id, name, createdAt: Date.now() });
      await em.flush();
    });
  }

  findByName(tenantId: string, name: string): Promise<PipelineRow | null> {
    return this.db.query("find pipeline", (em) => em.findOne(PipelineEntity, { tenantId, name }));
  }

  /** The hot path's lookup (every queued run): a raw read, no ORM. */
  head(tenantId: string, name: string): Promise<PipelineHead | null> {
    return this.db.read("find pipeline", async (c) => (await c.get<PipelineHead>(S.head, tenantId, name)) ?? null);
  }

  list(tenantId: string): Promise<PipelineRow[]> {
    return this.db.query("list pipelines", async (em) => byteOrder(await em.find(PipelineEntity, { tenantId }), (p) => p.name));
  }

  count(tenantId: string): Promise<number> {
    return this.db.query("count pipelines", (em) => em.count(PipelineEntity, { tenantId }));
  }

  /** Every version of a pipeline, newest first, without the large texts. */
  versions(pipelineId: number): Promise<VersionInfo[]> {
    return this.db.query("list versions", (em) =>
      em.find(PipelineVersionEntity, { pipeline: pipelineId }, { fields: [...INFO_FIELDS], orderBy: { version: "desc" } }),
    );
  }

  version(pipelineId: number, version: number): Promise<VersionInfo | null> {
    return this.db.query("find version", (em) =>
      em.findOne(PipelineVersionEntity, { pipeline: pipelineId, version }, { fields: [...INFO_FIELDS] }),
    );
  }

  code(pipelineId: number, version: number): Promise<CodeRecord | null> {
    return this.db.query("read code", (em) =>
      em.findOne(PipelineVersionEntity, { pipeline: pipelineId, version }, { fields: ["version", "hash", "filename", "source"] }),
    );
  }

  runnable(pipelineId: number, version: number): Promise<RunnableVersion | null> {
    return this.db.query("read bundle", (em) =>
      em.findOne(PipelineVersionEntity, { pipeline: pipelineId, version }, { fields: ["filename", "bundle", "sourceMap", "meta"] }),
    );
  }

  /**
   * Points the pipeline at an existing version (rollback) and copies that version's meta onto it — name
   * aside, the pipeline row then reads as if that version had just been deployed. `meta` is the version's
   * meta with defaults filled in (older versions may predate some fields).
   */
  async setCurrentVersion(pipelineId: number, version: number, filename: string, meta: PipelineMeta): Promise<PipelineRow> {
    return this.db.transaction("rollback", async (em) => {
      const pipeline = await em.findOneOrFail(PipelineEntity, { id: pipelineId });
      em.assign(pipeline, {
        ...overridesAfterDeploy(pipeline, meta),
        ...headOf(meta, version, filename, Date.now()),
      });
      await em.flush();
      return pipeline;
    });
  }

  /**
   * Stores a new immutable version and points the pipeline at it, creating the pipeline on its first
   * deploy — one transaction: either both land or neither does.
   */
  async addVersion(input: NewVersion): Promise<{ pipeline: PipelineRow; version: number }> {
    return this.db.transaction("deploy", async (em) => {
      const now = Date.now();
      const { meta } = input;
      let pipeline = await em.findOne(PipelineEntity, { tenantId: input.tenantId, name: meta.name });
      let version = 1;
      if (pipeline) {
        const latest = await em.findOne(PipelineVersionEntity, { pipeline: pipeline.id }, { fields: ["version"], orderBy: { version: "desc" } });
        version = (latest?.version ?? 0) + 1;
      } else {
        pipeline = em.create(PipelineEntity, {
          tenantId: input.tenantId,
          name: meta.name,
          enabled: true,
          createdAt: now,
          ...headOf(meta, version, input.filename, now),
        });
      }
      em.assign(pipeline, {
        ...overridesAfterDeploy(pipeline, meta),
        ...headOf(meta, version, input.filename, now),
      });
      em.create(PipelineVersionEntity, {
        tenantId: input.tenantId,
        pipeline,
        version,
        hash: input.hash,
        source: input.source,
        bundle: input.bundle,
        sourceMap: input.sourceMap,
        sourceBytes: Buffer.byteLength(input.source),
        filename: input.filename,
        meta,
        createdAt: now,
      });
      await em.flush();
      return { pipeline, version };
    });
  }
}

/**
 * What a pipeline row takes from the version it points at (deploy and rollback): the version, the file and
 * the meta. Run-control columns of a meta written before they existed get the defaults.
 */
function headOf(meta: PipelineMeta, version: number, filename: string, now: number) {
  return {
    currentVersion: version,
    filename,
    description: meta.description,
    schedule: meta.schedule,
    scheduleTimezone: meta.timezone ?? null,
    tags: meta.tags,
    dependsOn: meta.dependsOn,
    timeoutSec: meta.timeoutSec,
    retries: meta.retries ?? RUN_CONTROL_DEFAULTS.retries,
    retryDelaySec: meta.retryDelaySec ?? RUN_CONTROL_DEFAULTS.retryDelaySec,
    maxConcurrentRuns: meta.maxConcurrentRuns ?? RUN_CONTROL_DEFAULTS.maxConcurrentRuns,
    updatedAt: now,
  } satisfies Partial<PipelineRow>;
}
