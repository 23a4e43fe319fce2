/**
 * `http_api`'s one error converter: an HTTP status or a socket failure becomes a Tau code, once, here.
 * Messages name the method and the URL with credentials removed (`redactUrl`); request headers never appear.
 */
import { TauError, type ErrorCode } from "../../server/contract";
import { RequestAborted, RequestTimeout, ResponseTooLarge } from "./http-api-transport";

/** Socket errors that mean "could not reach the server" (retryable for idempotent requests). */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "ECONNABORTED"]);

/**
 * Whether `err` is a socket-level failure (refused, reset, unreachable, DNS): retryable for idempotent requests.
 *
 * @example
 * ```ts
 * isNetworkError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })); // true
 * ```
 */
export function isNetworkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && NETWORK_CODES.has(code);
}

/**
 * The URL as it may appear in a message: no user info, and the values of `secretParams` replaced.
 *
 * @example
 * ```ts
 * redactUrl(new URL("https://u:p@api.example.com/x?key=abc&q=1"), ["key"]); // "https://api.example.com/x?key=[redacted]&q=1"
 * ```
 */
export function redactUrl(url: URL, secretParams: readonly string[] = []): string {
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  for (const name of secretParams) if (copy.searchParams.has(name)) copy.searchParams.set(name, "[redacted]");
  const text = copy.href.replace(/%5Bredacted%5D/g, "[redacted]");
  return text.length <= 300 ? text : `${text.slice(0, 300)}…`;
}

/**
 * What a converted error names: the connector, the method, the (redacted) URL and how many attempts were made.
 *
 * @example
 * ```ts
 * const ctx: HttpFailureContext = { kind: "http_api", method: "GET", url: redactUrl(url), attempts: 4 };
 * ```
 */
export interface HttpFailureContext {
  kind: string;
  method: string;
  /** Already redacted. */
  url: string;
  attempts: number;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  401: "TAU_E_CONNECTOR_AUTH_FAILED",
  403: "TAU_E_CONNECTOR_PERMISSION_DENIED",
  404: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
  408: "TAU_E_CONNECTOR_TIMEOUT",
  410: "TAU_E_CONNECTOR_UNKNOWN_OBJECT",
};

const STATUS_HINTS: Partial<Record<ErrorCode, string>> = {
  TAU_E_CONNECTOR_AUTH_FAILED: "The service refused the credentials: check the auth option and the secret behind it (ctx.secret).",
  TAU_E_CONNECTOR_PERMISSION_DENIED: "The credentials are valid but may not do this: check the token's scopes or the account's permissions.",
  TAU_E_CONNECTOR_UNKNOWN_OBJECT: "Check the path against the API's documentation (details.url is what was requested).",
  TAU_E_CONNECTOR_TIMEOUT: "The service did not answer in time; retry, or raise the connector's timeoutMs.",
};

/**
 * Whether a status is worth retrying (the request was not processed, or the server failed transiently).
 *
 * @example
 * ```ts
 * isRetryableStatus(503); // true
 * isRetryableStatus(501); // false (not implemented will not change)
 * isRetryableStatus(404); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599 && status !== 501);
}

/**
 * A failed status after the client's retries (if any) as a TauError. `bodySnippet` is the start of the service's answer.
 *
 * @example
 * ```ts
 * throw convertHttpStatus(401, { kind: "http_api", method: "GET", url: "https://api.example.com/me", attempts: 1 }, ""); // TAU_E_CONNECTOR_AUTH_FAILED
 * ```
 */
export function convertHttpStatus(status: number, ctx: HttpFailureContext, bodySnippet: string): TauError {
  const details: Record<string, unknown> = { kind: ctx.kind, status, method: ctx.method, url: ctx.url, attempts: ctx.attempts };
  if (bodySnippet !== "") details.body = bodySnippet;
  const where = `${ctx.method} ${ctx.url}`;
  if (status === 429 || (status >= 500 && status !== 501)) {
    return new TauError(
      "TAU_E_CONNECTOR_SERVICE_UNAVAILABLE",
      `${ctx.kind}: ${where} answered ${status} after ${ctx.attempts} attempt${ctx.attempts === 1 ? "" : "s"}.`,
      details,
    );
  }
  const code = STATUS_CODES[status] ?? "TAU_E_CONNECTOR_REQUEST_REJECTED";
  return new TauError(code, `${ctx.kind}: ${where} answered ${status}.`, details, STATUS_HINTS[code]);
}

/**
 * A request that failed before a status arrived (socket error, deadline, cap, close) as a TauError.
 *
 * @example
 * ```ts
 * try { await sendOnce(target, spec); } catch (err) { throw convertHttpFailure(err, ctx, target.host, target.port); }
 * ```
 */
export function convertHttpFailure(err: unknown, ctx: HttpFailureContext, host: string, port: number): TauError {
  if (err instanceof TauError) return err;
  const details: Record<string, unknown> = { kind: ctx.kind, method: ctx.method, url: ctx.url, attempts: ctx.attempts };
  const where = `${ctx.method} ${ctx.url}`;
  if (err instanceof RequestTimeout) {
    return new TauError("TAU_E_CONNECTOR_TIMEOUT", `${ctx.kind}: ${where} got no complete answer within ${err.timeoutMs} ms.`, { ...details, timeoutMs: err.timeoutMs }, STATUS_HINTS.TAU_E_CONNECTOR_TIMEOUT);
  }
  if (err instanceof ResponseTooLarge) {
    return new TauError("TAU_E_CONNECTOR_RESPONSE_TOO_LARGE", `${ctx.kind}: the answer to ${where} is larger than ${err.limitBytes} bytes.`, { ...details, limitBytes: err.limitBytes });
  }
  if (err instanceof RequestAborted) return new TauError("TAU_E_CONNECTOR_CLOSED", `${ctx.kind}: the connector was closed while ${where} was in flight.`, details);
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (isNetworkError(err)) {
    return new TauError(
      "TAU_E_CONNECTOR_UNREACHABLE",
      `${ctx.kind}: cannot reach ${host}:${port} for ${where} (${code}).`,
      { ...details, host, port, cause: code },
      "Check the baseUrl, that the service is up and that the network allows it; details.host and details.port say where Tau tried to connect.",
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TauError("TAU_E_CONNECTOR_UNREACHABLE", `${ctx.kind}: ${where} failed: ${message.slice(0, 300)}`, { ...details, host, port, cause: code ?? null });
}
