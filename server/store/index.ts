/**
 * The daemon's store: one database (SQLite in the home, or PostgreSQL with TAU_DATABASE_URL) behind a
 * repository per concept. Nothing outside server/store/ touches the ORM or SQL.
 */
import { join } from "node:path";
import { Database } from "./database";
import type { Dialect } from "./sql";
import { EventRepository, type TenantEvent } from "./events";
import { GraphRepository } from "./graph-runs";
import { HistoryRepository } from "./history";
import { PipelineRepository } from "./pipelines";
import { RunLedger } from "./run-ledger";
import { RunRepository } from "./runs";
import { ScheduleRepository } from "./schedules";
import { SecretRepository, TenantRepository } from "./tenants";

export type { TenantEvent, EventFilter } from "./events";
export type { PipelineRow, PipelineVersionRow, RunRow, StepRow } from "./entities";
export type { VersionInfo, RunnableVersion, CodeRecord, NewVersion, PipelineHead } from "./pipelines";
export type { RunRef, NewRun, RunEnd } from "./run-ledger";
export type { RunRecord, StepRecord } from "./runs";
export type { RunPointRecord } from "./history";
export { daemonRunError } from "./run-ledger";
export type { GraphRunRow, StoredSchedule, StoredLastFire } from "./entities";
export type { ScheduleRecord, ScheduleSave, ScheduleChange } from "./schedules";
export type { GraphNodeRecord, GraphRunMember } from "./graph-runs";
export { effectiveSchedule, effectiveDependsOn, DEFAULT_CATCH_UP } from "./schedules";
export { iso, isoOrNull } from "./time";
export { DatabaseLock } from "./database-lock";
export type { SecretInfo } from "./tenants";
export type { Dialect } from "./sql";
export type { TenantRow } from "./entities";

export interface StoreOptions {
  /** The daemon's home; without `databaseUrl` the database is `<home>/tau.db`. */
  home: string;
  /** A postgres:// URL (TAU_DATABASE_URL): keep all state in that PostgreSQL database. Null/absent: SQLite. */
  databaseUrl?: string | null;
  /** Receives every stored event, in seq order, right after it was committed. */
  onEvents: (events: TenantEvent[]) => void;
}

export class Store {
  readonly pipelines: PipelineRepository;
  readonly runs: RunRepository;
  readonly events: EventRepository;
  readonly history: HistoryRepository;
  readonly ledger: RunLedger;
  readonly schedules: ScheduleRepository;
  readonly graph: GraphRepository;
  readonly tenants: TenantRepository;
  readonly secrets: SecretRepository;

  private constructor(private readonly db: Database, onEvents: (events: TenantEvent[]) => void) {
    this.pipelines = new PipelineRepository(db);
    this.runs = new RunRepository(db);
    this.events = new EventRepository(db);
    this.history = new HistoryRepository(db);
    this.ledger = new RunLedger(db, onEvents);
    this.schedules = new ScheduleRepository(db);
    this.graph = new GraphRepository(db);
    this.tenants = new TenantRepository(db);
    this.secrets = new SecretRepository(db);
  }

  static async open(options: StoreOptions): Promise<Store> {
    const db = await Database.open({ file: join(options.home, "tau.db"), home: options.home, url: options.databaseUrl ?? null });
    return new Store(db, options.onEvents);
  }

  /** Which database holds the state. */
  get dialect(): Dialect {
    return this.db.dialect;
  }

  /** Commits pending writes, then closes the database. */
  async close(): Promise<void> {
    await this.ledger.flush();
    await this.db.close();
  }
}
