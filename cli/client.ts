/**
 * A small HTTP client for taud's JSON API (Node's global fetch). Foreign failures are converted here,
 * once: a refused or dropped connection → TAU_E_DAEMON_UNREACHABLE (with the host in details); an answer
 * that is not JSON, or an error without Tau's `{"error": {...}}` shape → TAU_E_DAEMON_RESPONSE_INVALID;
 * a Tau error body → a DaemonError carrying the HTTP status.
 */
import {
  TauError,
  type CodeView,
  type DeployRequest,
  type DeployResponse,
  type PipelineDetailView,
  type PipelineView,
  type RollbackResponse,
  type RunEvent,
  type RunRequest,
  type RunSummary,
  type RunView,
  type StatusView,
  type WorkersView,
  type VersionView,
} from "../server/contract";
import type { ClientOptions } from "./config";
import { DaemonError } from "./exit-codes";

type Query = Record<string, string | number | undefined>;

export class TauClient {
  readonly host: string;
  private readonly token: string | null;

  constructor(options: ClientOptions) {
    this.host = options.host;
    this.token = options.token;
  }

  deploy(body: DeployRequest): Promise<DeployResponse> {
    return this.request("POST", "/api/pipelines", undefined, body);
  }

  async listPipelines(): Promise<PipelineView[]> {
    return this.list<PipelineView>("/api/pipelines", "pipelines");
  }

  getPipeline(name: string): Promise<PipelineDetailView> {
    return this.request("GET", `/api/pipelines/${enc(name)}`);
  }

  getCode(name: string, version?: number): Promise<CodeView> {
    return this.request("GET", `/api/pipelines/${enc(name)}/code`, { version });
  }

  startRun(name: string, body: RunRequest): Promise<RunView> {
    return this.request("POST", `/api/pipelines/${enc(name)}/runs`, undefined, body);
  }

  listRuns(name: string, last?: number): Promise<RunSummary[]> {
    return this.list<RunSummary>(`/api/pipelines/${enc(name)}/runs`, "runs", { last });
  }

  lastRun(name: string): Promise<RunView> {
    return this.request("GET", `/api/pipelines/${enc(name)}/last-run`);
  }

  getRun(id: string): Promise<RunView> {
    return this.request("GET", `/api/runs/${enc(id)}`);
  }

  /** Stored events of a run after `afterSeq`. */
  runEvents(id: string, afterSeq: number): Promise<RunEvent[]> {
    return this.list<RunEvent>(`/api/runs/${enc(id)}/events`, "events", { afterSeq });
  }

  /** `POST /api/runs/:id/cancel`: the run as it stands after the cancel. */
  cancelRun(id: string): Promise<RunView> {
    return this.request("POST", `/api/runs/${enc(id)}/cancel`);
  }

  rollback(name: string, to?: number): Promise<RollbackResponse> {
    return this.request("POST", `/api/pipelines/${enc(name)}/rollback`, undefined, to === undefined ? {} : { to });
  }

  errors(limit?: number, pipeline?: string): Promise<RunSummary[]> {
    return this.list<RunSummary>("/api/errors", "errors", { limit, pipeline });
  }

  status(): Promise<StatusView> {
    return this.request("GET", "/api/status");
  }

  workers(): Promise<WorkersView> {
    return this.request("GET", "/api/workers");
  }

  version(): Promise<VersionView> {
    return this.request("GET", "/api/version");
  }

  /** The WebSocket URL of the event stream and the headers to open it with. */
  eventsSocket(): { url: string; headers: Record<string, string> } {
    return { url: `${this.host.replace(/^http/, "ws")}/api/events`, headers: this.authHeaders() };
  }

  async request<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, query?: Query, body?: unknown): Promise<T> {
    const url = new URL(`${this.host}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json", ...this.authHeaders() };
    if (body !== undefined) headers["content-type"] = "application/json";

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      text = await response.text();
    } catch (err) {
      throw this.unreachable(err);
    }

    let parsed: unknown;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      throw this.invalid(`taud answered ${method} ${path} with HTTP ${response.status} and a body that is not JSON.`, {
        path,
        status: response.status,
        contentType: response.headers.get("content-type"),
        bodyStart: text.slice(0, 200),
      });
    }
    if (response.ok) return parsed as T;

    const error = (parsed as { error?: unknown } | null)?.error;
    if (error && typeof error === "object" && typeof (error as { code?: unknown }).code === "string") {
      throw new DaemonError(response.status, TauError.fromBody(error));
    }
    throw this.invalid(`taud answered ${method} ${path} with HTTP ${response.status} but no Tau error body.`, {
      path,
      status: response.status,
      body: parsed,
    });
  }

  /** A listing route: accepts a bare array or an object holding the array under `key`. */
  private async list<T>(path: string, key: string, query?: Query): Promise<T[]> {
    const body = await this.request<unknown>("GET", path, query);
    if (Array.isArray(body)) return body as T[];
    const items = (body as Record<string, unknown> | null)?.[key];
    if (Array.isArray(items)) return items as T[];
    throw this.invalid(`taud answered GET ${path} with neither an array nor {${key}: [...]}.`, { path, body });
  }

  private authHeaders(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /**
   * A fetch failure: refused, reset, DNS, TLS or timeout. All mean "no usable daemon at TAU_HOST"; the
   * socket-level code (ECONNREFUSED, …) is kept in details.cause for diagnosis.
   */
  private unreachable(err: unknown): TauError {
    const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
    const code = typeof cause?.code === "string" ? cause.code : null;
    const reason = typeof cause?.message === "string" ? cause.message : err instanceof Error ? err.message : String(err);
    return new TauError("TAU_E_DAEMON_UNREACHABLE", `Cannot reach taud at ${this.host}.`, {
      host: this.host,
      cause: code,
      reason,
    });
  }

  private invalid(message: string, details: Record<string, unknown>): TauError {
    return new TauError("TAU_E_DAEMON_RESPONSE_INVALID", message, { host: this.host, ...details });
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
