/**
 * `http_api`'s request engine: compiled options, the per-connector rate limit (a token bucket), retries with
 * exponential backoff and full jitter on 429/5xx/network errors honouring `Retry-After`, and the egress check
 * before every request (each retry and each pagination URL resolves and is checked again).
 *
 * Credentials (auth, configured headers) go only to the base URL's origin: a pagination link or an absolute
 * URL pointing at another host (even one the policy allows) is requested without them, so a `next` link
 * cannot carry a token off to a third party.
 */
import http from "node:http";
import https from "node:https";
import type { Policy } from "../../policies";
import { TauError } from "../../server/contract";
import { convertHttpFailure, convertHttpStatus, isNetworkError, isRetryableStatus, redactUrl } from "./http-api-errors";
import { RequestTimeout, portOf, resolveEgress, sendOnce, type SendResult } from "./http-api-transport";

/**
 * The connector kind the guest opens (`http_api({…})`) and policies name.
 *
 * @example
 * ```ts
 * const allowed = checkConnector(policy, HTTP_API_KIND) === null;
 * ```
 */
export const HTTP_API_KIND = "http_api";

/**
 * Authentication after validation on the host (secret markers already substituted by the bridge).
 *
 * @example
 * ```ts
 * const auth: HttpAuth = { type: "apiKey", header: "X-Api-Key", value: "k-123" };
 * ```
 */
export type HttpAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "apiKey"; header: string; value: string }
  | { type: "apiKey"; query: string; value: string };

/**
 * http_api options after validation on the host.
 *
 * @example
 * ```ts
 * const compiled: CompiledHttpApiOptions = compileHttpApiOptions({ baseUrl: "https://api.example.com/v1" }, ctx);
 * compiled.retries; // 3
 * ```
 */
export interface CompiledHttpApiOptions {
  baseUrl: URL;
  headers: Record<string, string>;
  auth: HttpAuth | null;
  timeoutMs: number;
  retries: number;
  /** Requests per second, or null for no limit. */
  requestsPerSecond: number | null;
  maxResponseBytes: number;
  /** Longest wait a Retry-After may impose, and the backoff's ceiling. */
  maxRetryDelayMs: number;
  /** First backoff delay (doubled per attempt, with full jitter). */
  retryBaseMs: number;
}

/**
 * Defaults of the options a pipeline may leave out (and the retry timing, which it cannot set).
 *
 * @example
 * ```ts
 * const deadline = options.timeoutMs ?? HTTP_API_DEFAULTS.timeoutMs; // 30 s
 * ```
 */
export const HTTP_API_DEFAULTS = {
  timeoutMs: 30_000,
  retries: 3,
  maxResponseBytes: 32 * 1024 * 1024,
  maxRetryDelayMs: 30_000,
  retryBaseMs: 250,
} as const;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/**
 * Evenly spaced requests: at most `perSecond` per second, no bursts. Synchronous bookkeeping, so concurrent callers queue fairly.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(5);           // 5 requests per second
 * await bucket.take(signal);                   // at once
 * await bucket.take(signal);                   // 200 ms later
 * ```
 */
export class TokenBucket {
  private nextAt = 0;
  private readonly intervalMs: number;

  constructor(perSecond: number) {
    this.intervalMs = 1000 / perSecond;
  }

  /** Resolves when the caller may send. */
  take(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    return sleep(at - now, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * `Retry-After` as milliseconds (delta-seconds or an HTTP date), or null when absent or unreadable.
 *
 * @example
 * ```ts
 * parseRetryAfter("3");                              // 3000
 * parseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT");  // ms until then (0 when past)
 * ```
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * One request for `HttpApiClient.send`.
 *
 * @example
 * ```ts
 * const req: HttpRequest = { method: "GET", url: new URL("https://api.example.com/v1/users"), headers: { accept: "application/json" } };
 * ```
 */
export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer;
}

/**
 * A response as the client resolves it: status, headers, the capped body and the URL it came from.
 *
 * @example
 * ```ts
 * const res: HttpResponse = await client.send({ method: "GET", url });
 * const next = nextLink(res.headers.link);
 * ```
 */
export interface HttpResponse extends SendResult {
  url: URL;
}

/**
 * Sends http_api's requests: egress check before each attempt, rate limit, retries, timeouts, byte cap.
 * Credentials and configured headers go to the base URL's origin only.
 *
 * @example
 * ```ts
 * const client = new HttpApiClient(compileHttpApiOptions({ baseUrl: "https://api.example.com" }, ctx), ctx.policy);
 * const res = await client.send({ method: "GET", url: new URL("https://api.example.com/health") });
 * client.close();
 * ```
 */
export class HttpApiClient {
  private readonly bucket: TokenBucket | null;
  private readonly aborter = new AbortController();
  private readonly agents = { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) };

  constructor(
    readonly options: CompiledHttpApiOptions,
    private readonly policy: Policy,
    /** Test seam: the random source for jitter. */
    private readonly random: () => number = Math.random,
  ) {
    this.bucket = options.requestsPerSecond === null ? null : new TokenBucket(options.requestsPerSecond);
  }

  /** Aborts requests in flight and refuses new ones. */
  close(): void {
    this.aborter.abort();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Query parameter names whose values must not appear in messages. */
  get secretParams(): string[] {
    return this.options.auth?.type === "apiKey" && "query" in this.options.auth ? [this.options.auth.query] : [];
  }

  /** Whether `url` is the base URL's origin (credentials and configured headers go only there). */
  sameOrigin(url: URL): boolean {
    return url.origin === this.options.baseUrl.origin;
  }

  /** The URL with the apiKey query parameter set when it goes to the base origin. */
  withAuthQuery(url: URL): URL {
    const auth = this.options.auth;
    if (auth?.type !== "apiKey" || !("query" in auth) || !this.sameOrigin(url)) return url;
    const copy = new URL(url.href);
    copy.searchParams.set(auth.query, auth.value);
    return copy;
  }

  private headersFor(url: URL, extra: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = { accept: "application/json, text/plain;q=0.9, */*;q=0.5", "user-agent": "tau-http-api/0.1" };
    if (this.sameOrigin(url)) {
      for (const [k, v] of Object.entries(this.options.headers)) out[k.toLowerCase()] = v;
      const auth = this.options.auth;
      if (auth?.type === "bearer") out.authorization = `Bearer ${auth.token}`;
      else if (auth?.type === "basic") out.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      else if (auth?.type === "apiKey" && "header" in auth) out[auth.header.toLowerCase()] = auth.value;
    }
    for (const [k, v] of Object.entries(extra)) out[k.toLowerCase()] = v;
    return out;
  }

  /**
   * Sends one request with retries. Resolves with a 2xx/3xx response (or any status when `acceptErrors`);
   * rejects with a TauError after the last attempt.
   */
  async send(req: HttpRequest, acceptErrors = false): Promise<HttpResponse> {
    if (req.url.protocol !== "http:" && req.url.protocol !== "https:") {
      throw new TauError("TAU_E_CONNECTOR_ARGS_INVALID", `${HTTP_API_KIND}: only http and https URLs can be requested, not ${req.url.protocol}.`, { kind: HTTP_API_KIND });
    }
    const url = this.withAuthQuery(req.url);
    const method = req.method.toUpperCase();
    const shown = redactUrl(url, this.secretParams);
    const port = portOf(url);
    const retriesAllowed = this.options.retries;
    const headers = this.headersFor(url, req.headers ?? {});
    for (let attempt = 1; ; attempt++) {
      if (this.aborter.signal.aborted) throw new TauError("TAU_E_CONNECTOR_CLOSED", `${HTTP_API_KIND}: the connector was closed.`);
      const ctx = { kind: HTTP_API_KIND, method, url: shown, attempts: attempt };
      // Checked before every attempt: the name may resolve elsewhere by now, and the policy applies to each request.
      const target = await resolveEgress(this.policy, url.hostname, port, HTTP_API_KIND);
      if (this.bucket) await this.bucket.take(this.aborter.signal);
      let res: SendResult;
      try {
        res = await sendOnce(target, {
          method,
          url,
          headers,
          body: req.body,
          timeoutMs: this.options.timeoutMs,
          maxBytes: this.options.maxResponseBytes,
          signal: this.aborter.signal,
          agent: url.protocol === "https:" ? this.agents.https : this.agents.http,
        });
      } catch (err) {
        const transient = (isNetworkError(err) || err instanceof RequestTimeout) && IDEMPOTENT.has(method);
        if (transient && attempt <= retriesAllowed) {
          await sleep(this.backoff(attempt), this.aborter.signal);
          continue;
        }
        throw convertHttpFailure(err, ctx, target.host, target.port);
      }
      if (res.status < 400 || acceptErrors) return { ...res, url };
      // 429 means the request was not processed: safe to retry whatever the method.
      const mayRetry = isRetryableStatus(res.status) && (res.status === 429 || IDEMPOTENT.has(method));
      if (mayRetry && attempt <= retriesAllowed) {
        const asked = parseRetryAfter(res.headers["retry-after"]);
        const delay = asked === null ? this.backoff(attempt) : Math.min(asked, this.options.maxRetryDelayMs);
        await sleep(delay, this.aborter.signal);
        continue;
      }
      throw convertHttpStatus(res.status, ctx, snippet(res.body));
    }
  }

  /** Full-jitter exponential backoff: a random delay in [0, min(cap, base·2^(attempt-1))]. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxRetryDelayMs, this.options.retryBaseMs * 2 ** (attempt - 1));
    return Math.round(this.random() * ceiling);
  }
}

function snippet(body: Buffer): string {
  const text = body.subarray(0, 2000).toString("utf8");
  return text.length <= 500 ? text : `${text.slice(0, 500)}…`;
}
