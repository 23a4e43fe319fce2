/**
 * The event stream: a WebSocket at /api/events.
 *
 * A client subscribes to a run or a pipeline, optionally after a seq. The server first subscribes to the
 * in-process bus (buffering), then replays stored events with seq > afterSeq from the database in pages,
 * then flushes the buffer skipping seqs already sent, then answers `subscribed` and streams live events.
 * Events are stored before they are published and published in seq order, so every subscription sees
 * each matching event exactly once, in seq order, with no gap at the replay/live boundary.
 *
 * Memory per connection is bounded by `wsMaxBufferedBytes`: the replay goes at the client's pace (it waits
 * for the socket to drain), live events buffered during the replay are dropped past the cap and read from
 * the store again instead, and a live client whose unsent data passes the cap is disconnected with close
 * code 1013 and reason TAU_E_EVENTS_SLOW_CONSUMER — it reconnects with afterSeq = the last seq it
 * processed and loses nothing.
 *
 * `{"type":"subscribe","all":true}` follows every event of the tenant (the dashboard's overview), with the
 * same replay and ordering; `kinds` narrows any subscription to some event kinds (e.g. everything but logs).
 * A heartbeat pings every client each `wsHeartbeatMs` (default 30 s); one that has not answered the
 * previous ping by the next tick is a dead peer (a laptop that slept, a dropped NAT mapping) and is
 * terminated, so its subscriptions stop costing memory.
 */
import type { FastifyInstance } from "fastify";
import type {} from "@fastify/websocket";
import type { RawData, WebSocket } from "ws";
import { ERRORS, TauError, Schemas as S, type ErrorCode, type RunEvent, type RunEventKind, type WsServerMessage } from "../../contract";
import type { EventFilter, TenantEvent } from "../../store";
import type { ApiContext } from "../context";

const REPLAY_PAGE = 1_000;
const MAX_SUBSCRIPTIONS = 64;
const CLOSE_TRY_AGAIN_LATER = 1013;
const DEFAULT_HEARTBEAT_MS = 30_000;
const EVENT_KINDS: readonly RunEventKind[] = ["run.queued", "run.started", "step.started", "step.finished", "log", "run.finished"];

interface Subscription {
  key: string;
  filter: EventFilter;
  /** Only these kinds are sent (null: all). */
  kinds: ReadonlySet<string> | null;
  live: boolean;
  closed: boolean;
  /** Live events that arrived while the replay ran. */
  buffer: RunEvent[];
  bufferedBytes: number;
  /** The buffer overflowed and was dropped: the replay must read the store again before going live. */
  rescan: boolean;
  lastSent: number;
}

export async function eventRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.route({
    method: "GET",
    url: "/api/events",
    config: { access: "read" },
    schema: {
      operationId: "streamEvents",
      summary: "WebSocket: subscribe to a run's or a pipeline's events, replayed from afterSeq, then live.",
      tags: ["events"],
      response: { "4xx": S.ErrorResponse },
      "x-websocket": { client: S.WsClientMessage, server: S.WsServerMessage },
    },
    handler: async () => {
      throw new TauError("TAU_E_REQUEST_INVALID", "GET /api/events is a WebSocket: connect with an Upgrade request.", {}, "Use a WebSocket client (e.g. ws) on ws://HOST/api/events.");
    },
    wsHandler: (socket, request) => {
      new EventStream(socket, request.tenantId, ctx).start();
    },
  });
}

class EventStream {
  private readonly subscriptions = new Map<string, Subscription>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private alive = true;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly tenantId: string,
    private readonly ctx: ApiContext,
  ) {}

  start(): void {
    this.unsubscribe = this.ctx.bus.subscribe((e) => this.onEvent(e));
    this.socket.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on("close", () => this.dispose());
    this.socket.on("error", () => this.dispose());
    this.socket.on("pong", () => (this.alive = true));
    this.heartbeat = setInterval(() => this.beat(), this.ctx.wsHeartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** No pong since the last ping: the peer is gone without a close frame. */
  private beat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.dispose();
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
    for (const sub of this.subscriptions.values()) sub.closed = true;
    this.subscriptions.clear();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    let message: Record<string, unknown>;
    try {
      if (isBinary) throw new Error("binary frame");
      const parsed: unknown = JSON.parse(data.toString());
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      message = parsed as Record<string, unknown>;
    } catch {
      return this.sendError("TAU_E_REQUEST_INVALID", "A message must be a JSON object in a text frame.");
    }
    if (message.type === "subscribe") {
      const filter = this.filterOf(message, true);
      if (!filter) return;
      const afterSeq = message.afterSeq ?? 0;
      if (typeof afterSeq !== "number" || !Number.isSafeInteger(afterSeq) || afterSeq < 0) {
        return this.sendError("TAU_E_REQUEST_INVALID", "afterSeq must be a non-negative integer.");
      }
      const { kinds } = message;
      if (kinds !== undefined && (!Array.isArray(kinds) || kinds.length === 0 || !kinds.every((k) => EVENT_KINDS.includes(k as RunEventKind)))) {
        return this.sendError("TAU_E_REQUEST_INVALID", `kinds must be a non-empty array of: ${EVENT_KINDS.join(", ")}.`);
      }
      this.subscribe(filter, afterSeq, kinds === undefined ? null : new Set(kinds as string[])).catch((err: unknown) => {
        const tau = err instanceof TauError ? err : new TauError("TAU_E_INTERNAL");
        if (tau.code === "TAU_E_INTERNAL") this.ctx.log.error({ err }, "event subscription failed");
        this.sendError(tau.code, tau.message);
      });
      return;
    }
    if (message.type === "unsubscribe") {
      const filter = this.filterOf(message, false);
      for (const [key, sub] of this.subscriptions) {
        if (!filter || key === keyOf(filter)) {
          sub.closed = true;
          this.subscriptions.delete(key);
        }
      }
      return;
    }
    // Browsers cannot send ping frames: this is how a page checks that the connection still carries data.
    if (message.type === "ping") return void this.sendRaw(JSON.stringify({ type: "pong" } satisfies WsServerMessage));
    this.sendError("TAU_E_REQUEST_INVALID", "type must be 'subscribe', 'unsubscribe' or 'ping'.");
  }

  /** Exactly one of runId / pipeline (a non-empty string) / all (true); null (and an error sent) otherwise. */
  private filterOf(message: Record<string, unknown>, required: boolean): EventFilter | null {
    const { runId, pipeline, all } = message;
    const valid = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 64;
    const given = [runId, pipeline, all].filter((v) => v !== undefined).length;
    if (given === 1 && valid(runId)) return { tenantId: this.tenantId, runId };
    if (given === 1 && valid(pipeline)) return { tenantId: this.tenantId, pipeline };
    if (given === 1 && all === true) return { tenantId: this.tenantId };
    if (required || given > 0) {
      this.sendError("TAU_E_REQUEST_INVALID", "Give exactly one of runId or pipeline (a non-empty string) or all: true.");
    }
    return null;
  }

  private async subscribe(filter: EventFilter, afterSeq: number, kinds: ReadonlySet<string> | null): Promise<void> {
    const { store } = this.ctx;
    const key = keyOf(filter);
    if (!this.subscriptions.has(key) && this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      throw new TauError("TAU_E_REQUEST_INVALID", `At most ${MAX_SUBSCRIPTIONS} subscriptions per connection.`);
    }
    const previous = this.subscriptions.get(key);
    if (previous) previous.closed = true;
    // Listen (buffering) before reading the store: nothing published from here on can be missed.
    const sub: Subscription = { key, filter, kinds, live: false, closed: false, buffer: [], bufferedBytes: 0, rescan: false, lastSent: afterSeq };
    this.subscriptions.set(key, sub);

    const exists =
      filter.runId !== undefined
        ? (await store.runs.status(this.tenantId, filter.runId)) !== null
        : filter.pipeline === undefined || (await store.pipelines.head(this.tenantId, filter.pipeline)) !== null;
    if (!exists) {
      this.drop(sub);
      throw filter.runId !== undefined
        ? new TauError("TAU_E_RUN_NOT_FOUND", `No run with id '${filter.runId}'.`, { id: filter.runId })
        : new TauError("TAU_E_PIPELINE_NOT_FOUND", `No pipeline named '${filter.pipeline}'.`, { name: filter.pipeline });
    }

    // A seq beyond the newest stored one cannot have been seen (a client of another daemon or an older
    // database): treat it as "from now on" instead of skipping everything up to it.
    sub.lastSent = Math.min(afterSeq, await store.events.head());
    const cap = this.ctx.wsMaxBufferedBytes;
    for (let cursor = sub.lastSent; ; ) {
      // Whatever was buffered so far was stored before this read began, so this read or a later one
      // returns it: only what arrives after the last read has to be kept. (What arrives while the read is
      // under way may be in both; send() skips seqs already sent.)
      sub.buffer = [];
      sub.bufferedBytes = 0;
      sub.rescan = false;
      const page = await store.events.page(filter, cursor, REPLAY_PAGE);
      if (sub.closed) return;
      for (const event of page) {
        if (!this.send(sub, event)) return;
        // The replay goes at the client's pace; only falling behind live traffic is held against it.
        if (this.socket.bufferedAmount > cap / 2) {
          await this.drained();
          if (sub.closed) return;
        }
      }
      if (sub.closed) return;
      if (page.length < REPLAY_PAGE && !sub.rescan) break;
      cursor = page.at(-1)?.seq ?? cursor;
    }
    const head = await store.events.head();
    if (sub.closed) return;
    for (const event of sub.buffer) if (!this.send(sub, event)) return;
    sub.buffer = [];
    sub.bufferedBytes = 0;
    sub.live = true;
    const target =
      filter.runId !== undefined ? { runId: filter.runId } : filter.pipeline !== undefined ? { pipeline: filter.pipeline } : { all: true as const };
    const answer: WsServerMessage = { type: "subscribed", ...target, lastSeq: Math.max(head, sub.lastSent) };
    this.sendRaw(JSON.stringify(answer));
  }

  private onEvent({ tenantId, event }: TenantEvent): void {
    if (tenantId !== this.tenantId) return;
    for (const sub of this.subscriptions.values()) {
      if (sub.closed || !matches(sub.filter, event)) continue;
      if (!sub.live) {
        // Buffered events are also in the store: past the cap, drop them and let the replay read again.
        if (sub.rescan) continue;
        sub.buffer.push(event);
        sub.bufferedBytes += serialised(event).length;
        if (sub.bufferedBytes > this.ctx.wsMaxBufferedBytes) {
          sub.buffer = [];
          sub.bufferedBytes = 0;
          sub.rescan = true;
        }
        continue;
      }
      if (!this.send(sub, event)) return;
      if (this.socket.bufferedAmount > this.ctx.wsMaxBufferedBytes) return this.tooSlow();
    }
  }

  /** Sends an event not sent before on this subscription; false when the connection is closed. */
  private send(sub: Subscription, event: RunEvent): boolean {
    if (event.seq <= sub.lastSent) return true;
    sub.lastSent = event.seq;
    if (sub.kinds !== null && !sub.kinds.has(event.kind)) return !this.closed;
    return this.sendRaw(serialised(event));
  }

  private sendRaw(text: string): boolean {
    if (this.closed) return false;
    this.socket.send(text);
    return true;
  }

  private sendError(code: ErrorCode, message: string): void {
    const answer: WsServerMessage = { type: "error", error: { code, message, hint: ERRORS[code].hint } };
    this.sendRaw(JSON.stringify(answer));
  }

  private tooSlow(): void {
    if (this.closed) return;
    this.dispose();
    this.socket.close(CLOSE_TRY_AGAIN_LATER, "TAU_E_EVENTS_SLOW_CONSUMER: resubscribe with afterSeq");
  }

  private drop(sub: Subscription): void {
    sub.closed = true;
    if (this.subscriptions.get(sub.key) === sub) this.subscriptions.delete(sub.key);
  }

  /** Resolves once what was sent so far has been handed to the network (replay back-pressure). */
  private drained(): Promise<void> {
    if (this.closed || this.socket.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => this.socket.ping(undefined, undefined, () => resolve()));
  }
}

function keyOf(filter: EventFilter): string {
  if (filter.runId !== undefined) return `run:${filter.runId}`;
  return filter.pipeline !== undefined ? `pipeline:${filter.pipeline}` : "all";
}

/** The tenant was checked before: a filter without runId or pipeline matches all of its events. */
function matches(filter: EventFilter, event: RunEvent): boolean {
  if (filter.runId !== undefined) return event.runId === filter.runId;
  return filter.pipeline === undefined || event.pipeline === filter.pipeline;
}

/** Live events go to many sockets as the same object: serialise each once. */
const texts = new WeakMap<RunEvent, string>();
function serialised(event: RunEvent): string {
  let text = texts.get(event);
  if (text === undefined) {
    const message: WsServerMessage = { type: "event", event };
    text = JSON.stringify(message);
    texts.set(event, text);
  }
  return text;
}
