/**
 * The run queue and its slots. Runs wait in one FIFO per pipeline; a free slot goes to the oldest waiting
 * run whose pipeline and tenant are both under their limits. A pipeline at its `maxConcurrentRuns` (or a
 * tenant at its limit) therefore holds back only its own runs: no head-of-line blocking of the others.
 *
 * A slot belongs to a run id from `next()` until `release(runId)`; release is idempotent and the counts
 * are derived from the held slots, so a run that ends any way at all (success, failure, cancel, a crashed
 * executor) frees exactly its one slot, and a daemon that restarts starts with none held — the slot
 * accounting that Prefect #17415 leaked cannot drift here.
 */

export interface QueueItem {
  runId: string;
  tenantId: string;
  /** Runs of one pipeline share a FIFO and the pipeline's limit (key: tenant and pipeline id). */
  pipelineId: number;
  /** The pipeline's limit as it was when this run was queued. */
  maxConcurrentRuns: number;
}

export interface RunQueueLimits {
  /** Runs executing at once, daemon-wide. */
  concurrency: number;
  /** Runs of one tenant executing at once. */
  tenantConcurrency: number;
  /** A tenant's own, lower limit (its policy's limits.concurrentRuns), when it has one. */
  tenantLimit?: (tenantId: string) => number;
}

interface Waiting<T> {
  item: T;
  /** Order of arrival, daemon-wide: the oldest admissible run goes first. */
  seq: number;
}

export class RunQueue<T extends QueueItem> {
  /** Waiting runs per pipeline, oldest first. A pipeline with none has no entry. */
  private readonly waiting = new Map<string, Waiting<T>[]>();
  private waitingCount = 0;
  private seq = 0;
  /** Held slots: run id → what it counts against. */
  private readonly held = new Map<string, { tenantId: string; pipelineKey: string }>();
  private readonly heldPerPipeline = new Map<string, number>();
  private readonly heldPerTenant = new Map<string, number>();

  constructor(private readonly limits: RunQueueLimits) {}

  get queued(): number {
    return this.waitingCount;
  }

  get running(): number {
    return this.held.size;
  }

  /** One tenant's waiting and executing runs (hosted mode's status shows a tenant only its own). */
  countsFor(tenantId: string): { queued: number; running: number } {
    let queued = 0;
    for (const [key, fifo] of this.waiting) if (key.startsWith(`${tenantId}\0`)) queued += fifo.length;
    return { queued, running: this.heldPerTenant.get(tenantId) ?? 0 };
  }

  /** Adds a run at the back of its pipeline's FIFO. */
  push(item: T): void {
    const key = pipelineKey(item);
    let fifo = this.waiting.get(key);
    if (!fifo) this.waiting.set(key, (fifo = []));
    fifo.push({ item, seq: this.seq++ });
    this.waitingCount++;
  }

  /** Takes a waiting run out of the queue (a cancel); null when it is not waiting. */
  remove(runId: string): T | null {
    for (const [key, fifo] of this.waiting) {
      const i = fifo.findIndex((w) => w.item.runId === runId);
      if (i < 0) continue;
      const [removed] = fifo.splice(i, 1);
      if (fifo.length === 0) this.waiting.delete(key);
      this.waitingCount--;
      return removed!.item;
    }
    return null;
  }

  /**
   * The oldest waiting run that may start now, with its slot taken; null when none may. Cost: one look at
   * the head of each pipeline that has waiting runs.
   */
  next(): T | null {
    if (this.held.size >= this.limits.concurrency || this.waitingCount === 0) return null;
    let best: { key: string; head: Waiting<T> } | null = null;
    for (const [key, fifo] of this.waiting) {
      const head = fifo[0]!;
      if (best !== null && head.seq > best.head.seq) continue;
      if ((this.heldPerPipeline.get(key) ?? 0) >= head.item.maxConcurrentRuns) continue;
      const tenantLimit = Math.min(this.limits.tenantConcurrency, this.limits.tenantLimit?.(head.item.tenantId) ?? Number.POSITIVE_INFINITY);
      if ((this.heldPerTenant.get(head.item.tenantId) ?? 0) >= tenantLimit) continue;
      best = { key, head };
    }
    if (best === null) return null;
    const fifo = this.waiting.get(best.key)!;
    fifo.shift();
    if (fifo.length === 0) this.waiting.delete(best.key);
    this.waitingCount--;
    const { item } = best.head;
    this.held.set(item.runId, { tenantId: item.tenantId, pipelineKey: best.key });
    bump(this.heldPerPipeline, best.key, 1);
    bump(this.heldPerTenant, item.tenantId, 1);
    return item;
  }

  /** Frees the run's slot. Harmless for a run that holds none (or already gave it back). */
  release(runId: string): void {
    const slot = this.held.get(runId);
    if (!slot) return;
    this.held.delete(runId);
    bump(this.heldPerPipeline, slot.pipelineKey, -1);
    bump(this.heldPerTenant, slot.tenantId, -1);
  }

  /** Empties the queue (shutdown), oldest first. Held slots stay held until released. */
  drain(): T[] {
    const all = [...this.waiting.values()].flat().sort((a, b) => a.seq - b.seq);
    this.waiting.clear();
    this.waitingCount = 0;
    return all.map((w) => w.item);
  }
}

function pipelineKey(item: Pick<QueueItem, "tenantId" | "pipelineId">): string {
  return `${item.tenantId}\0${item.pipelineId}`;
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
