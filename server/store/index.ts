/**
 * The daemon's store: one SQLite database behind a repository per concept. Nothing outside server/store/
 * touches the ORM or SQL.
 */
import { join } from "node:path";
import { Database } from "./database";
import { EventRepository, type TenantEvent } from "./events";
import { PipelineRepository } from "./pipelines";
import { RunLedger } from "./run-ledger";
import { RunRepository } from "./runs";

export type { TenantEvent, EventFilter } from "./events";
export type { PipelineRow, PipelineVersionRow, RunRow, StepRow } from "./entities";
export type { VersionInfo, RunnableVersion, CodeRecord, NewVersion, PipelineHead } from "./pipelines";
export type { RunRef, NewRun, RunEnd } from "./run-ledger";
export type { RunRecord, StepRecord } from "./runs";
export { daemonRunError } from "./run-ledger";
export { iso, isoOrNull } from "./time";

export interface StoreOptions {
  /** The daemon's home; the database is `<home>/tau.db`. */
  home: string;
  /** Receives every stored event, in seq order, right after it was committed. */
  onEvents: (events: TenantEvent[]) => void;
}

export class Store {
  readonly pipelines: PipelineRepository;
  readonly runs: RunRepository;
  readonly events: EventRepository;
  readonly ledger: RunLedger;

  private constructor(private readonly db: Database, onEvents: (events: TenantEvent[]) => void) {
    this.pipelines = new PipelineRepository(db);
    this.runs = new RunRepository(db);
    this.events = new EventRepository(db);
    this.ledger = new RunLedger(db, onEvents);
  }

  static async open(options: StoreOptions): Promise<Store> {
    const db = await Database.open({ file: join(options.home, "tau.db"), home: options.home });
    return new Store(db, options.onEvents);
  }

  /** Commits pending writes, then closes the database. */
  async close(): Promise<void> {
    await this.ledger.flush();
    await this.db.close();
  }
}
