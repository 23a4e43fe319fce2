/**
 * The dashboard's HTTP client: typed GETs (and the one POST it makes, "Run now") against taud's /api on
 * the page's own origin. Every failure becomes an ApiError carrying Tau's error body, so views show the
 * code and hint the CLI would print.
 */
import type {
  CodeView,
  HistoryView,
  PipelineDetailView,
  PipelineView,
  RunEvent,
  RunPoint,
  RunSummary,
  RunView,
  StatusView,
} from "../../server/contract";
import { AUTH_CODES, authRequired, getToken } from "./auth";

export interface ErrorBody {
  code: string;
  message: string;
  hint: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

/** A pipeline as the list shows it; `nextRunAt` arrives with the scheduler (rendered when present). */
export type PipelineRow = PipelineView & { nextRunAt?: string | null };

/** GET /api/dag (served once the scheduler/DAG lands; derived from dependsOn until then). */
export interface DagView {
  nodes: Array<{ name: string; dependsOn: string[]; schedule: string | null; lastStatus: string | null }>;
  edges: Array<{ from: string; to: string }>;
  groups: string[][];
  /** Names depended on that are not deployed. */
  missing?: string[];
}

async function request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let res: Response;
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const token = getToken();
  if (token !== null) headers.authorization = `Bearer ${token}`;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, {
      code: "TAU_E_DAEMON_UNREACHABLE",
      message: `Cannot reach taud: ${(err as Error).message}`,
      hint: "Check that taud is running; the dashboard reconnects on its own.",
    });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, { code: "TAU_E_DAEMON_RESPONSE_INVALID", message: `${method} ${path} answered ${res.status} with non-JSON.`, hint: "" });
  }
  if (!res.ok) {
    const error = (json as { error?: ErrorBody } | null)?.error;
    if (res.status === 401 && error && AUTH_CODES.has(error.code)) authRequired(error);
    throw new ApiError(res.status, error ?? { code: "TAU_E_INTERNAL", message: `${method} ${path} answered ${res.status}.`, hint: "" });
  }
  return json as T;
}

const enc = encodeURIComponent;

export const api = {
  pipelines: (): Promise<PipelineRow[]> => request("GET", "/api/pipelines"),
  pipeline: (name: string): Promise<PipelineDetailView & { nextRunAt?: string | null }> => request("GET", `/api/pipelines/${enc(name)}`),
  code: (name: string, version?: number): Promise<CodeView> =>
    request("GET", `/api/pipelines/${enc(name)}/code${version === undefined ? "" : `?version=${version}`}`),
  history: (last: number): Promise<HistoryView> => request("GET", `/api/history?last=${last}`),
  pipelineHistory: (name: string, last: number): Promise<RunPoint[]> => request("GET", `/api/pipelines/${enc(name)}/history?last=${last}`),
  runs: (name: string, last: number): Promise<RunSummary[]> => request("GET", `/api/pipelines/${enc(name)}/runs?last=${last}`),
  run: (id: string): Promise<RunView> => request("GET", `/api/runs/${enc(id)}`),
  runEvents: (id: string, afterSeq: number): Promise<{ events: RunEvent[]; lastSeq: number; hasMore: boolean }> =>
    request("GET", `/api/runs/${enc(id)}/events?afterSeq=${afterSeq}`),
  startRun: (name: string): Promise<RunView> => request("POST", `/api/pipelines/${enc(name)}/runs`, {}),
  cancelRun: (id: string): Promise<RunView> => request("POST", `/api/runs/${enc(id)}/cancel`),
  errors: (limit: number): Promise<RunSummary[]> => request("GET", `/api/errors?limit=${limit}`),
  status: (): Promise<StatusView & Record<string, unknown>> => request("GET", "/api/status"),
  /** The DAG, or null when this daemon does not serve /api/dag yet. */
  dag: async (): Promise<DagView | null> => {
    try {
      return await request<DagView>("GET", "/api/dag");
    } catch (err) {
      if (err instanceof ApiError && err.body.code === "TAU_E_ROUTE_NOT_FOUND") return null;
      throw err;
    }
  },
};
