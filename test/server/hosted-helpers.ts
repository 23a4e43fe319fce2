/**
 * A hosted-mode daemon for tests: in-process on port 0 with an HS256 secret and a secret key, plus tokens
 * minted with the same key (as `taud token` would) and small fetch/WebSocket helpers that send them.
 */
import WebSocket from "ws";
import { compileTokenConfig, issueToken, type Role } from "../../server/auth";
import type { Daemon, DaemonOptions } from "../../server";
import { startDaemon } from "./helpers/daemon";

export const JWT_SECRET = "hosted-test-secret-0123456789-abcdefghijklmnop";
export const SECRET_KEY = "a".repeat(64);
export const TOKENS = compileTokenConfig({ algorithm: "HS256", secret: JWT_SECRET });

export function startHosted(home: string, options: DaemonOptions = {}): Promise<Daemon> {
  return startDaemon(home, { mode: "hosted", jwtSecret: JWT_SECRET, secretKey: SECRET_KEY, ...options });
}

export function token(tenant: string, role: Role, ttlSec = 600): string {
  return issueToken(TOKENS, { tenant, role, ttlSec }).token;
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export async function call<T = unknown>(url: string, bearer: string | null, init: { method?: string; body?: unknown; header?: string } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (init.header !== undefined) headers.authorization = init.header;
  else if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T, text, headers: res.headers };
}

/** Opens /api/events; resolves with the socket, or rejects with the HTTP status of a refused upgrade. */
export function openEvents(daemon: Daemon, options: { header?: string; protocols?: string[]; leaveOpen?: boolean } = {}): Promise<WebSocket> {
  const url = `${daemon.url.replace("http", "ws")}/api/events`;
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.header ? { authorization: options.header } : {} });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (req, res) => {
      res.resume();
      // leaveOpen: a client that keeps the refused connection (the daemon must still close it).
      if (!options.leaveOpen) req.destroy();
      reject(new Error(`status ${res.statusCode}`));
    });
    ws.once("error", reject);
  });
}

/** Sends a message and collects what arrives until `done` says so (or the timeout). */
export function exchange(ws: WebSocket, message: unknown, done: (messages: Array<Record<string, unknown>>) => boolean, timeoutMs = 3000): Promise<Array<Record<string, unknown>>> {
  const messages: Array<Record<string, unknown>> = [];
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      ws.off("message", onMessage);
      resolve(messages);
    };
    const onMessage = (data: WebSocket.RawData): void => {
      messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (done(messages)) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    ws.on("message", onMessage);
    ws.send(JSON.stringify(message));
  });
}
