/**
 * Follows one run's events over taud's WebSocket (`/api/events`) until its `run.finished` event.
 *
 * Every subscription asks for the events after the last seq already seen, so a dropped connection is
 * resumed without gaps or repeats (seq is global and strictly increasing). Reconnection backs off and
 * gives up when no connection has been established for `reconnectWindowMs`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { ERRORS, TauError, type RunEvent, type WsClientMessage, type WsServerMessage } from "../server/contract";
import type { TauClient } from "./client";
import { DaemonError } from "./exit-codes";

export interface FollowOptions {
  client: TauClient;
  runId: string;
  /** Called once per event, in seq order. */
  onEvent: (event: RunEvent) => void;
  /** Give up after this long without a working connection. Default 30 s. */
  reconnectWindowMs?: number;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2_000;

type Attempt = { kind: "finished"; event: RunEvent } | { kind: "dropped"; reason: string; subscribed: boolean };

/** Resolves with the run's `run.finished` event. */
export async function followRun(options: FollowOptions): Promise<RunEvent> {
  const window = options.reconnectWindowMs ?? 30_000;
  const state = { lastSeq: 0 };
  let failingSince: number | null = null;
  let backoff = BACKOFF_MIN_MS;
  for (;;) {
    const attempt = await subscribeOnce(options, state);
    if (attempt.kind === "finished") return attempt.event;
    if (attempt.subscribed) {
      failingSince = null;
      backoff = BACKOFF_MIN_MS;
    }
    failingSince ??= Date.now();
    if (Date.now() - failingSince >= window) {
      throw new TauError("TAU_E_DAEMON_UNREACHABLE", `Lost the event stream from taud at ${options.client.host}.`, {
        host: options.client.host,
        runId: options.runId,
        lastSeq: state.lastSeq,
        reason: attempt.reason,
      });
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  }
}

function subscribeOnce(options: FollowOptions, state: { lastSeq: number }): Promise<Attempt> {
  const { client, runId, onEvent } = options;
  const { url, headers } = client.eventsSocket();
  return new Promise<Attempt>((resolve, reject) => {
    let subscribed = false;
    let settled = false;
    let lastReason = "connection closed";
    const ws = new WebSocket(url, { headers });

    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      ws.removeAllListeners();
      ws.on("error", () => {});
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    };

    /**
     * Whether the daemon replays stored events on subscribe or sends only live ones, the stored events
     * after the last seq are also fetched over HTTP once subscribed; live events that arrive meanwhile
     * wait in `buffered` so that everything is printed in seq order, each event once.
     */
    let catchingUp = false;
    let buffered: RunEvent[] = [];
    const catchUp = (): void => {
      catchingUp = true;
      client
        .runEvents(runId, state.lastSeq)
        .then((events) => buffered.push(...events))
        .catch(() => {
          // The WebSocket's own replay still covers history; a failed catch-up is not fatal.
        })
        .finally(() => {
          catchingUp = false;
          const pending = buffered.sort((a, b) => a.seq - b.seq);
          buffered = [];
          for (const event of pending) deliver(event);
        });
    };

    const deliver = (event: RunEvent): void => {
      if (settled || event?.runId !== runId || typeof event.seq !== "number" || event.seq <= state.lastSeq) return;
      state.lastSeq = event.seq;
      onEvent(event);
      if (event.kind === "run.finished") settle(() => resolve({ kind: "finished", event }));
    };

    ws.on("open", () => {
      const message: WsClientMessage = { type: "subscribe", runId, afterSeq: state.lastSeq };
      ws.send(JSON.stringify(message));
    });

    ws.on("message", (data) => {
      let message: WsServerMessage;
      try {
        message = JSON.parse(data.toString()) as WsServerMessage;
      } catch {
        settle(() => reject(protocolError(client, "a WebSocket message is not JSON", data.toString().slice(0, 200))));
        return;
      }
      if (message.type === "subscribed") {
        subscribed = true;
        catchUp();
        return;
      }
      if (message.type === "error") {
        const error = TauError.fromBody(message.error);
        // Retryable (slow consumer, shutting down): resubscribe after the last seq; nothing is lost.
        if (error.retryable) settle(() => resolve({ kind: "dropped", reason: error.code, subscribed }));
        else settle(() => reject(new DaemonError(ERRORS[error.code].status, error)));
        return;
      }
      if (message.type !== "event" || !message.event || typeof message.event.seq !== "number") {
        settle(() => reject(protocolError(client, "unexpected WebSocket message", JSON.stringify(message).slice(0, 200))));
        return;
      }
      subscribed = true;
      if (catchingUp) buffered.push(message.event);
      else deliver(message.event);
    });

    // The upgrade itself was answered with HTTP (401, 404, …): a refusal, not a drop — do not retry.
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const error = (body as { error?: { code?: unknown } } | undefined)?.error;
        if (error && typeof error.code === "string") {
          settle(() => reject(new DaemonError(status, TauError.fromBody(error))));
        } else if (status >= 500) {
          settle(() => resolve({ kind: "dropped", reason: `HTTP ${status} on WebSocket upgrade`, subscribed }));
        } else {
          settle(() => reject(protocolError(client, `HTTP ${status} on WebSocket upgrade`, text.slice(0, 200))));
        }
      });
      res.on("error", () => settle(() => resolve({ kind: "dropped", reason: "upgrade response failed", subscribed })));
    });

    ws.on("error", (err: NodeJS.ErrnoException) => {
      lastReason = err.code ?? err.message;
    });
    ws.on("close", () => settle(() => resolve({ kind: "dropped", reason: lastReason, subscribed })));
  });
}

function protocolError(client: TauClient, what: string, received: string): TauError {
  return new TauError("TAU_E_DAEMON_RESPONSE_INVALID", `taud's event stream is not Tau's protocol: ${what}.`, {
    host: client.host,
    received,
  });
}
