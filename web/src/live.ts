/**
 * One WebSocket to /api/events for the whole page. Views subscribe to a run, a pipeline or everything;
 * each subscription remembers the last seq it delivered, so after a dropped connection it resubscribes
 * with `afterSeq` = that seq: the server replays what was missed, and anything it sends twice (seq ≤ the
 * last delivered) is dropped here. Listeners therefore see every matching event once, in seq order.
 */
import type { RunEvent, RunEventKind, WsServerMessage } from "../../server/contract";
import { getToken } from "./auth";

export type LiveTarget = { runId: string } | { pipeline: string } | { all: true };
export type ConnectionState = "connecting" | "open" | "reconnecting";

export interface LiveSubscription {
  /** Called for each new event, in seq order, never twice for one seq. */
  onEvent(event: RunEvent): void;
  /** Called when the server has replayed everything up to `lastSeq` and the stream is live. */
  onLive?(lastSeq: number): void;
  onError?(error: { code: string; message: string; hint: string }): void;
}

interface Entry {
  key: string;
  target: LiveTarget;
  kinds: RunEventKind[] | undefined;
  /** The last seq delivered on this key; resubscribing asks for what follows it. */
  lastSeq: number;
  /** Subscribed "from now on": lastSeq is taken from the server's `subscribed` answer. */
  fromNow: boolean;
  listeners: Set<LiveSubscription>;
}

const keyOf = (t: LiveTarget): string => ("runId" in t ? `run:${t.runId}` : "pipeline" in t ? `pipeline:${t.pipeline}` : "all");
const MAX_BACKOFF_MS = 5_000;
/**
 * A dead peer (the laptop slept, a proxy dropped the mapping) leaves a socket that looks open and carries
 * nothing. Browsers cannot send ping frames, so the page sends `{"type":"ping"}` this often; a whole
 * interval with no message at all (not even the `pong`) closes the socket, and the usual reconnect follows.
 */
const PING_MS = 15_000;

export interface SubscribeOptions {
  /** Replay stored events after this seq (default 0: the whole history); "now": only what happens next. */
  from?: number | "now";
  /** Only these kinds (fixed by the first subscriber of a target). */
  kinds?: RunEventKind[];
}

export class LiveClient {
  private socket: WebSocket | null = null;
  private readonly entries = new Map<string, Entry>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private state: ConnectionState = "connecting";
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private heard = true;
  private stopped = false;
  /** Connections opened so far (the first plus every reconnect). */
  connections = 0;
  /**
   * Called when a connection closed without ever opening. A browser is not told why an upgrade failed (a
   * hosted daemon's 401 looks like any network error), so the page asks over HTTP, where a 401 is visible.
   */
  onConnectFailed: (() => void) | null = null;

  constructor(private readonly url: string) {}

  start(): void {
    this.connect();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Follows a target. The first subscriber of a target decides where the replay starts; later ones of the
   * same target share its stream from the moment they join. Returns the function that ends it.
   */
  subscribe(target: LiveTarget, listener: LiveSubscription, options: SubscribeOptions = {}): () => void {
    const key = keyOf(target);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const fromNow = options.from === "now";
      entry = { key, target, kinds: options.kinds, lastSeq: fromNow ? 0 : (options.from as number | undefined) ?? 0, fromNow, listeners: new Set() };
      this.entries.set(key, entry);
      entry.listeners.add(listener);
      this.sendSubscribe(entry);
    } else {
      entry.listeners.add(listener);
    }
    const mine = entry;
    return () => {
      mine.listeners.delete(listener);
      if (mine.listeners.size > 0 || this.entries.get(key) !== mine) return;
      this.entries.delete(key);
      this.send({ type: "unsubscribe", ...mine.target });
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const token = getToken();
    // A hosted instance reads the token from the offered subprotocols and answers with "tau".
    const socket = token === null ? new WebSocket(this.url) : new WebSocket(this.url, ["tau", `tau.bearer.${token}`]);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.connections += 1;
      this.attempts = 0;
      this.setState("open");
      for (const entry of this.entries.values()) this.sendSubscribe(entry);
      this.heard = true;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => {
        if (!this.heard) return socket.close();
        this.heard = false;
        this.send({ type: "ping" });
      }, PING_MS);
    };
    socket.onmessage = (message) => {
      this.heard = true;
      this.onMessage(String(message.data));
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      clearInterval(this.pinger);
      this.socket = null;
      this.setState("reconnecting");
      if (!opened) this.onConnectFailed?.();
      // Quick first retry (a dropped proxy connection), then back off to at most 5 s.
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.attempts++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  private onMessage(text: string): void {
    let message: WsServerMessage;
    try {
      message = JSON.parse(text) as WsServerMessage;
    } catch {
      return;
    }
    if (message.type === "event") {
      const event = message.event;
      for (const entry of this.entries.values()) {
        if (!matches(entry.target, event) || event.seq <= entry.lastSeq) continue;
        if (entry.kinds && !entry.kinds.includes(event.kind)) continue;
        entry.lastSeq = event.seq;
        for (const listener of [...entry.listeners]) listener.onEvent(event);
      }
    } else if (message.type === "subscribed") {
      const key = message.runId !== undefined ? `run:${message.runId}` : message.pipeline !== undefined ? `pipeline:${message.pipeline}` : "all";
      const entry = this.entries.get(key);
      if (!entry) return;
      if (entry.fromNow) {
        entry.fromNow = false;
        entry.lastSeq = Math.max(entry.lastSeq, message.lastSeq);
      }
      for (const listener of [...entry.listeners]) listener.onLive?.(message.lastSeq);
    } else if (message.type === "error") {
      for (const entry of this.entries.values()) for (const listener of entry.listeners) listener.onError?.(message.error);
    }
  }

  private sendSubscribe(entry: Entry): void {
    // "From now on" before the first answer: an afterSeq past the newest stored event means exactly that.
    const afterSeq = entry.fromNow ? Number.MAX_SAFE_INTEGER : entry.lastSeq;
    this.send({ type: "subscribe", ...entry.target, afterSeq, ...(entry.kinds ? { kinds: entry.kinds } : {}) });
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  /** Closes the connection for good (the page needs a new token first; signing in reloads it). */
  stop(): void {
    this.stopped = true;
    this.close();
  }

  close(): void {
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}

function matches(target: LiveTarget, event: RunEvent): boolean {
  if ("runId" in target) return event.runId === target.runId;
  if ("pipeline" in target) return event.pipeline === target.pipeline;
  return true;
}

/** The page's one connection, on the page's own origin (outside a page, e.g. in unit tests: unused). */
export const live = new LiveClient(
  typeof location === "undefined" ? "ws://localhost/api/events" : `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/events`,
);
