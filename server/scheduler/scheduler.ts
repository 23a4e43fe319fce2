/**
 * The scheduler: one heap entry per scheduled pipeline, keyed by its next fire time, and one timer for the
 * earliest. A tick pops what is due, fires each once, plans each one's next fire and persists it — so a
 * daemon that was down knows what it missed, and fires at most `catchUp` runs for it (default 1), never a
 * pile. A fire does not queue a run while another run of the pipeline is queued or running, unless the
 * pipeline allows overlap; the skip and its reason are logged and stored as the pipeline's last fire.
 */
import type { Logger } from "../log";
import type { Clock, CancelTimer } from "./clock";
import { TimeHeap } from "./heap";
import { describeSpec, firesBetween, NextFireMemo, type ScheduleSpec } from "./spec";

/** A pipeline's schedule as the scheduler works with it. */
export interface ScheduleEntry {
  tenantId: string;
  pipelineId: number;
  pipeline: string;
  spec: ScheduleSpec;
  enabled: boolean;
  /** Queue a run even while another run of the pipeline is queued or running. */
  allowOverlap: boolean;
  /** Runs to fire for fires missed while the daemon was down (0: none). */
  catchUp: number;
  /** The planned next fire (epoch ms) as persisted; null when not planned yet. */
  nextRunAt: number | null;
}

/** What a fire did: queued a run, or was skipped (and why). */
export type FireOutcome = { runId: string } | { skipped: string; details: Record<string, unknown> };

/** What the last fire of a pipeline did, stored on the pipeline. */
export interface LastFire {
  /** The fire time that was due (epoch ms). */
  plannedAt: number;
  /** When it actually fired. */
  firedAt: number;
  runId: string | null;
  /** Why no run was queued (`overlap`, a TAU_E_ code), or null. */
  skipped: string | null;
  /** True for a run fired at start for fires missed while the daemon was down. */
  catchUp: boolean;
}

export interface ScheduleUpdate {
  pipelineId: number;
  nextRunAt: number | null;
  /** Present when the pipeline fired. */
  lastFire?: LastFire;
}

/** The scheduler's view of the store. */
export interface SchedulerStore {
  /** Every pipeline that has a schedule (enabled or not), any tenant. */
  loadAll(): Promise<ScheduleEntry[]>;
  /** One pipeline's schedule, or null when it has none or does not exist. */
  load(tenantId: string, pipeline: string): Promise<ScheduleEntry | null>;
  save(updates: ScheduleUpdate[]): Promise<void>;
}

/** Queues a scheduled run (RunService.enqueue with trigger "schedule"), honouring the overlap rule. */
export interface FireTarget {
  fire(entry: ScheduleEntry, plannedAt: number): Promise<FireOutcome>;
}

export interface SchedulerOptions {
  clock: Clock;
  store: SchedulerStore;
  target: FireTarget;
  log: Logger;
}

export interface SchedulerStats {
  /** Pipelines with a planned fire. */
  scheduled: number;
  ticks: number;
  fires: number;
  skipped: number;
  /** How late the last tick ran after its earliest due fire (ms). */
  lastLatencyMs: number;
  maxLatencyMs: number;
  /** The scheduler's own work in the last tick: popping, planning the next fires, re-arming (ms); firing is not in it. */
  lastTickMs: number;
}

export class Scheduler {
  private readonly heap = new TimeHeap<ScheduleEntry>();
  private cancelTimer: CancelTimer | null = null;
  private armedAt: number | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private readonly counters = { ticks: 0, fires: 0, skipped: 0, lastLatencyMs: 0, maxLatencyMs: 0, lastTickMs: 0 };

  constructor(private readonly options: SchedulerOptions) {}

  /**
   * Loads every schedule, fires catch-up runs for what was missed while the daemon was down, persists the
   * planned next fires and arms the timer. Resolves once the catch-up runs are queued.
   */
  async start(): Promise<void> {
    this.running = true;
    const entries = await this.options.store.loadAll();
    const now = this.options.clock.now();
    const updates: ScheduleUpdate[] = [];
    const catchUps: Array<Promise<ScheduleUpdate | null>> = [];
    const memo = new NextFireMemo();
    for (const entry of entries) {
      const planned = this.plan(entry, now, memo);
      if (planned.update) updates.push(planned.update);
      if (planned.missed > 0) catchUps.push(this.fireCatchUp(entry, planned.missedFrom!, planned.missed, planned.update?.nextRunAt ?? null));
    }
    for (const update of await Promise.all(catchUps)) if (update) updates.push(update);
    await this.save(mergeUpdates(updates));
    this.arm();
  }

  /**
   * Re-reads one pipeline's schedule after it changed (deploy, `tau schedule`) and re-plans it. A planned
   * fire that is already past (the pipeline was re-enabled, say) is planned afresh, not caught up.
   */
  async refresh(tenantId: string, pipeline: string): Promise<void> {
    if (!this.running) return;
    const entry = await this.options.store.load(tenantId, pipeline);
    if (!entry) {
      this.remove(tenantId, pipeline);
      return;
    }
    const now = this.options.clock.now();
    if (entry.nextRunAt !== null && entry.nextRunAt <= now) entry.nextRunAt = null;
    const planned = this.plan(entry, now, new NextFireMemo());
    if (planned.update) await this.save([planned.update]);
    this.arm();
  }

  /** Forgets a pipeline's schedule (the pipeline was removed). */
  remove(tenantId: string, pipeline: string): void {
    if (this.heap.delete(keyOf(tenantId, pipeline))) this.arm();
  }

  /** The planned next fire of a pipeline (epoch ms), or null. */
  nextRunAt(tenantId: string, pipeline: string): number | null {
    return this.heap.at(keyOf(tenantId, pipeline)) ?? null;
  }

  stats(): SchedulerStats {
    return { scheduled: this.heap.size, ...this.counters };
  }

  /** Stops firing and waits for fires in progress to be queued and saved. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedAt = null;
    await Promise.all([...this.inFlight]);
  }

  /** The timer's callback: pops everything due, plans each one's next fire, re-arms, then fires them. */
  private tick(): void {
    this.cancelTimer = null;
    this.armedAt = null;
    if (!this.running) return;
    const started = performance.now();
    const now = this.options.clock.now();
    const due: Array<{ entry: ScheduleEntry; plannedAt: number; nextRunAt: number | null }> = [];
    const memo = new NextFireMemo();
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      const { key, at: plannedAt, value: entry } = top;
      const next = memo.next(entry.spec, now, plannedAt);
      entry.nextRunAt = next;
      // Moving the top entry down in place is one sift, where pop-then-insert is two.
      if (next !== null) this.heap.set(key, next, entry);
      else this.heap.delete(key);
      due.push({ entry, plannedAt, nextRunAt: next });
    }
    this.arm();
    this.counters.lastTickMs = performance.now() - started;
    if (due.length > 0) {
      this.counters.ticks++;
      this.counters.lastLatencyMs = now - due[0]!.plannedAt;
      this.counters.maxLatencyMs = Math.max(this.counters.maxLatencyMs, this.counters.lastLatencyMs);
      this.track(this.fireAll(due, now));
    }
  }

  private async fireAll(due: Array<{ entry: ScheduleEntry; plannedAt: number; nextRunAt: number | null }>, firedAt: number): Promise<void> {
    const updates = await Promise.all(
      due.map(async ({ entry, plannedAt, nextRunAt }) => ({
        pipelineId: entry.pipelineId,
        nextRunAt,
        lastFire: await this.fireOne(entry, plannedAt, firedAt, false),
      })),
    );
    await this.save(updates);
  }

  private async fireCatchUp(entry: ScheduleEntry, plannedAt: number, missed: number, nextRunAt: number | null): Promise<ScheduleUpdate | null> {
    const runs = Math.min(missed, entry.catchUp);
    const firedAt = this.options.clock.now();
    this.options.log.warn(
      { tenant: entry.tenantId, pipeline: entry.pipeline, missed, catchUp: runs, since: new Date(plannedAt).toISOString() },
      runs > 0 ? "schedule missed fires while the daemon was down: firing catch-up runs" : "schedule missed fires while the daemon was down: catchUp is 0, not firing",
    );
    if (runs === 0) return null;
    let lastFire: LastFire | undefined;
    // Sequential: the first catch-up run is subject to the overlap rule, later ones are the backfill asked for.
    for (let i = 0; i < runs; i++) lastFire = await this.fireOne(i === 0 ? entry : { ...entry, allowOverlap: true }, plannedAt, firedAt, true);
    return { pipelineId: entry.pipelineId, nextRunAt, lastFire };
  }

  private async fireOne(entry: ScheduleEntry, plannedAt: number, firedAt: number, catchUp: boolean): Promise<LastFire> {
    let outcome: FireOutcome;
    try {
      outcome = await this.options.target.fire(entry, plannedAt);
    } catch (err) {
      outcome = { skipped: "TAU_E_INTERNAL", details: { reason: err instanceof Error ? err.message : String(err) } };
    }
    if ("runId" in outcome) {
      this.counters.fires++;
      // The run's own run.queued event carries the rest; keep this line cheap (10,000 fires may share a tick).
      this.options.log.info({ tenant: entry.tenantId, pipeline: entry.pipeline, runId: outcome.runId, catchUp }, "schedule fired");
      return { plannedAt, firedAt, runId: outcome.runId, skipped: null, catchUp };
    }
    this.counters.skipped++;
    this.options.log.warn(
      { tenant: entry.tenantId, pipeline: entry.pipeline, schedule: describeSpec(entry.spec), plannedAt: new Date(plannedAt).toISOString(), catchUp, skipped: outcome.skipped, ...outcome.details },
      "schedule fire skipped",
    );
    return { plannedAt, firedAt, runId: null, skipped: outcome.skipped, catchUp };
  }

  /**
   * Puts an entry in the heap at its next fire. Returns what to persist (when the plan changed) and, for a
   * planned fire already past, how many fires were missed and since when.
   */
  private plan(entry: ScheduleEntry, now: number, memo: NextFireMemo): { update: ScheduleUpdate | null; missed: number; missedFrom: number | null } {
    const key = keyOf(entry.tenantId, entry.pipeline);
    if (!entry.enabled) {
      this.heap.delete(key);
      return { update: entry.nextRunAt === null ? null : { pipelineId: entry.pipelineId, nextRunAt: null }, missed: 0, missedFrom: null };
    }
    let missed = 0;
    let missedFrom: number | null = null;
    let next = entry.nextRunAt;
    if (next === null) {
      next = memo.next(entry.spec, now);
    } else if (next <= now) {
      missedFrom = next;
      // The persisted fire itself, plus whatever fell after it; counting stops past what catchUp can use.
      missed = 1 + firesBetween(entry.spec, next, now, Math.max(entry.catchUp, 1));
      next = memo.next(entry.spec, now, next);
    }
    const changed = next !== entry.nextRunAt;
    entry.nextRunAt = next;
    if (next === null) this.heap.delete(key);
    else this.heap.set(key, next, entry);
    return { update: changed ? { pipelineId: entry.pipelineId, nextRunAt: next } : null, missed, missedFrom };
  }

  private arm(): void {
    if (!this.running) return;
    const top = this.heap.peek();
    if (top?.at === this.armedAt && this.cancelTimer) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedAt = null;
    if (!top) return;
    this.armedAt = top.at;
    this.cancelTimer = this.options.clock.setTimer(top.at, () => this.tick());
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.options.log.error({ err }, "scheduler: firing failed"));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async save(updates: ScheduleUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    try {
      await this.options.store.save(updates);
    } catch (err) {
      this.options.log.error({ err, pipelines: updates.length }, "scheduler: could not store planned fires");
    }
  }
}

function keyOf(tenantId: string, pipeline: string): string {
  return `${tenantId}\0${pipeline}`;
}

/** One update per pipeline: a later one (a catch-up's last fire) completes an earlier one (its plan). */
function mergeUpdates(updates: ScheduleUpdate[]): ScheduleUpdate[] {
  const byId = new Map<number, ScheduleUpdate>();
  for (const u of updates) byId.set(u.pipelineId, { ...byId.get(u.pipelineId), ...u });
  return [...byId.values()];
}
