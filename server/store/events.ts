/**
 * Reading the event log. The log is written only by the run ledger (run-ledger.ts); it is the hot table, so
 * both sides use raw statements instead of the ORM (see bench/store-throughput.ts). Reads only ever see
 * committed events (on SQLite: the read-only connection).
 */
import type { LogLevel, LogLine, RunEvent, RunEventKind } from "../contract";
import type { Database } from "./database";
import { sql } from "./sql";
import { iso } from "./time";

/** An event with the tenant it belongs to: what the event bus carries. */
export interface TenantEvent {
  tenantId: string;
  event: RunEvent;
}

/** One run's events, one pipeline's, or (neither given) every event of the tenant. */
export interface EventFilter {
  tenantId: string;
  runId?: string;
  pipeline?: string;
}

interface EventDbRow {
  seq: number;
  run_id: string;
  pipeline: string;
  ts: number;
  kind: RunEventKind;
  level: LogLevel | null;
  step: string | null;
  message: string | null;
  data: string | null;
}

const COLUMNS = "seq, run_id, pipeline, ts, kind, level, step, message, data";

const S = {
  byRun: sql(`select ${COLUMNS} from event where run_id = ? and tenant_id = ? and seq > ? order by seq limit ?`),
  byPipeline: sql(`select ${COLUMNS} from event where pipeline = ? and tenant_id = ? and seq > ? order by seq limit ?`),
  byTenant: sql(`select ${COLUMNS} from event where tenant_id = ? and seq > ? order by seq limit ?`),
  lastLogs: sql(
    `select ${COLUMNS} from (select ${COLUMNS} from event where run_id = ? and tenant_id = ? and kind = 'log' order by seq desc limit ?) as last_logs order by seq`,
  ),
  head: sql("select coalesce(max(seq), 0) as seq from event"),
};

export class EventRepository {
  constructor(private readonly db: Database) {}

  /** Stored events matching `filter` with seq > afterSeq, oldest first. */
  page(filter: EventFilter, afterSeq: number, limit: number): Promise<RunEvent[]> {
    return this.db.read("read events", async (c) => {
      const rows =
        filter.runId !== undefined
          ? await c.all<EventDbRow>(S.byRun, filter.runId, filter.tenantId, afterSeq, limit)
          : filter.pipeline !== undefined
            ? await c.all<EventDbRow>(S.byPipeline, filter.pipeline, filter.tenantId, afterSeq, limit)
            : await c.all<EventDbRow>(S.byTenant, filter.tenantId, afterSeq, limit);
      return rows.map(eventFromRow);
    });
  }

  /** The last `limit` log lines of a run, oldest first. */
  logs(tenantId: string, runId: string, limit: number): Promise<LogLine[]> {
    return this.db.read("read logs", async (c) =>
      (await c.all<EventDbRow>(S.lastLogs, runId, tenantId, limit)).map((row) => ({
        seq: row.seq,
        ts: iso(row.ts),
        level: row.level ?? "info",
        step: row.step,
        message: row.message ?? "",
        fields: parseJson(row.data),
      })),
    );
  }

  /** The newest seq stored (0 when the log is empty). */
  head(): Promise<number> {
    return this.db.read("read head seq", async (c) => (await c.get<{ seq: number }>(S.head))!.seq);
  }
}

function eventFromRow(row: EventDbRow): RunEvent {
  return {
    seq: row.seq,
    runId: row.run_id,
    pipeline: row.pipeline,
    ts: iso(row.ts),
    kind: row.kind,
    level: row.level,
    step: row.step,
    message: row.message,
    data: parseJson(row.data),
  };
}

function parseJson(text: string | null): Record<string, unknown> | null {
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}
