/**
 * `http_api`: a JSON/REST service as a connector (guest side). Requests run on the host: auth, retries,
 * rate limit, pagination and the tenant's egress policy are applied there; the pipeline gets records.
 */
import { callSite } from "../bridge";
import { createConnectorCore } from "../connector-handle";
import { createSdkError, fillSdkError, type TauSdkError } from "../errors";
import type { JsonValue } from "../json";
import { ArrayIsArray, NumberIsInteger, ObjectDefineProperty, ObjectFreeze, asyncDisposeSymbol } from "../primordials";
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, createRowStream, type RowStream } from "../row-stream";
import type { Row } from "../sql-connector";

/**
 * How `http_api` authenticates. Values may be `ctx.secret(…)` references: the host substitutes them, and
 * scrubs them from logs and errors. Credentials are sent only to the `baseUrl`'s origin, never to a
 * pagination link that points elsewhere.
 *
 * @example
 * ```ts
 * const bearer: HttpAuth = { type: "bearer", token: ctx.secret("GITHUB_TOKEN") };
 * const basic: HttpAuth = { type: "basic", username: "etl", password: ctx.secret("API_PASSWORD") };
 * const header: HttpAuth = { type: "apiKey", header: "X-Api-Key", value: ctx.secret("API_KEY") };
 * const query: HttpAuth = { type: "apiKey", query: "api_key", value: ctx.secret("API_KEY") };
 * ```
 */
export type HttpAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "apiKey"; header: string; value: string }
  | { type: "apiKey"; query: string; value: string };

/**
 * Options of `http_api`. `baseUrl` (http or https) is where relative paths are resolved:
 * `baseUrl: "https://api.example.com/v1"` + `"users"` → `https://api.example.com/v1/users`.
 * `timeoutMs` (default 30000) bounds each request, connect to last byte; `retries` (default 3) is how many
 * times a 429, 5xx, timeout or network error is retried, with exponential backoff and jitter, honouring
 * `Retry-After` (at most 30 s; non-idempotent methods such as POST are retried only on 429);
 * `rateLimit.requestsPerSecond` spaces this connector's requests evenly; `maxResponseBytes` (default 32 MiB,
 * at most the policy's bridge limit) caps one response body.
 *
 * @example
 * ```ts
 * const options: HttpApiOptions = {
 *   baseUrl: "https://api.example.com/v1",
 *   headers: { "X-Client": "tau" },
 *   auth: { type: "bearer", token: ctx.secret("EXAMPLE_TOKEN") },
 *   timeoutMs: 10_000,
 *   retries: 5,
 *   rateLimit: { requestsPerSecond: 4 },
 * };
 * ```
 */
export interface HttpApiOptions {
  baseUrl: string;
  headers?: Record<string, string>;
  auth?: HttpAuth;
  timeoutMs?: number;
  retries?: number;
  rateLimit?: { requestsPerSecond: number };
  maxResponseBytes?: number;
}

/**
 * How to walk an API's pages. `page`: `pageParam` = startPage (default 1), 2, … with `sizeParam` = pageSize,
 * until a page has fewer than pageSize records. `offset`: `offsetParam` = 0, limit, 2·limit … until a page is
 * short. `cursor`: the value at `cursorPath` in each answer is sent as `cursorParam` until it is missing or
 * null. `link`: follows the RFC 8288 `Link: <…>; rel="next"` header (each next URL is checked against the
 * tenant's egress policy).
 *
 * @example
 * ```ts
 * const byPage: Pagination = { type: "page", pageParam: "page", sizeParam: "per_page", pageSize: 100 };
 * const byOffset: Pagination = { type: "offset", offsetParam: "offset", limitParam: "limit", limit: 500 };
 * const byCursor: Pagination = { type: "cursor", cursorParam: "starting_after", cursorPath: "meta.next_cursor" };
 * const byLink: Pagination = { type: "link" };
 * ```
 */
export type Pagination =
  | { type: "page"; pageParam: string; sizeParam?: string; pageSize: number; startPage?: number }
  | { type: "offset"; offsetParam: string; limitParam: string; limit: number }
  | { type: "cursor"; cursorParam: string; cursorPath: string }
  | { type: "link" };

/**
 * Query parameters: scalars, or arrays sent as repeated parameters; null and undefined are left out.
 *
 * @example
 * ```ts
 * const params: QueryParams = { state: "open", since: "2026-01-01", labels: ["bug", "p1"], draft: false };
 * ```
 */
export type QueryParams = Record<string, string | number | boolean | null | undefined | readonly (string | number | boolean)[]>;

/**
 * Options of `extract`: `params` for the query string, `recordPath` (dot path to the records array in each
 * answer, e.g. `"data.items"`; absent: the answer itself, an array or a single object), `paginate`,
 * `maxPages` (default 1000: reading stops after that many pages) and extra `headers` for these requests.
 *
 * @example
 * ```ts
 * const opts: HttpExtractOptions = { params: { status: "paid" }, recordPath: "data", paginate: { type: "link" }, maxPages: 50 };
 * ```
 */
export interface HttpExtractOptions {
  params?: QueryParams;
  recordPath?: string;
  paginate?: Pagination;
  maxPages?: number;
  headers?: Record<string, string>;
}

/**
 * Options of `stream`: those of `extract`, plus `batchSize` (default 10,000): a page larger than that is
 * handed out in several batches.
 *
 * @example
 * ```ts
 * const opts: HttpStreamOptions = { recordPath: "items", paginate: { type: "cursor", cursorParam: "cursor", cursorPath: "next" }, batchSize: 1000 };
 * ```
 */
export interface HttpStreamOptions extends HttpExtractOptions {
  batchSize?: number;
}

/**
 * Options of `request`: `body` is sent as JSON (or as text when it is a string), `throwHttpErrors: false`
 * returns 4xx/5xx answers instead of throwing.
 *
 * @example
 * ```ts
 * const opts: HttpRequestOptions = { body: { name: "Ada" }, headers: { "Idempotency-Key": ctx.runId } };
 * ```
 */
export interface HttpRequestOptions {
  params?: QueryParams;
  body?: JsonValue | string;
  headers?: Record<string, string>;
  throwHttpErrors?: boolean;
}

/**
 * What `request` resolves to: the status, the response headers (lower-case names) and the body, parsed when
 * the answer is JSON, else text (null when empty).
 *
 * @example
 * ```ts
 * const res: HttpResponse<{ id: number }> = await api.request("POST", "/orders", { body: { sku: "A1" } });
 * if (res.status === 201) ctx.log("created", { id: res.body.id, location: res.headers.location });
 * ```
 */
export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/**
 * HTTP methods `request` accepts (lower case works too).
 *
 * @example
 * ```ts
 * const method: HttpMethod = "PATCH";
 * ```
 */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

/**
 * A handle on an HTTP API. Failures come back as codes: TAU_E_CONNECTOR_AUTH_FAILED (401),
 * TAU_E_CONNECTOR_PERMISSION_DENIED (403), TAU_E_CONNECTOR_UNKNOWN_OBJECT (404), TAU_E_CONNECTOR_TIMEOUT,
 * TAU_E_CONNECTOR_SERVICE_UNAVAILABLE (429/5xx after the retries), TAU_E_CONNECTOR_UNREACHABLE,
 * TAU_E_CONNECTOR_REQUEST_REJECTED (other 4xx, with the service's answer in details.body),
 * TAU_E_POLICY_DENIED (a host the tenant may not reach).
 *
 * @example
 * ```ts
 * await using api = http_api({ baseUrl: "https://api.github.com", auth: { type: "bearer", token: ctx.secret("GITHUB_TOKEN") } });
 * const issues = await api.extract<{ number: number; title: string }>("/repos/acme/app/issues", {
 *   params: { state: "open", per_page: 100 },
 *   paginate: { type: "link" },
 * });
 * ```
 */
export interface HttpApiConnector extends AsyncDisposable {
  readonly kind: "http_api";
  /**
   * GETs `path` (and its next pages) and resolves to all the records, capped by the policy's rows per
   * extract.
   *
   * @example
   * ```ts
   * const users = await api.extract("/users", { recordPath: "data", paginate: { type: "page", pageParam: "page", pageSize: 100 } });
   * ```
   */
  extract<T = Row>(path: string, options?: HttpExtractOptions): Promise<T[]>;
  /**
   * Like `extract`, but yields the records a page at a time; only one page is held at once. Breaking out
   * of the loop stops reading pages.
   *
   * @example
   * ```ts
   * for await (const batch of api.stream("/events", { recordPath: "events", paginate: { type: "cursor", cursorParam: "after", cursorPath: "next" } })) {
   *   await db.load(batch, { table: "raw_events" });
   * }
   * ```
   */
  stream<T = Row>(path: string, options?: HttpStreamOptions): RowStream<T>;
  /**
   * Sends one request with any method and resolves to `{ status, headers, body }`.
   *
   * @example
   * ```ts
   * const res = await api.request("POST", "/webhooks/refresh", { body: { dataset: "orders" } });
   * ```
   */
  request<T = unknown>(method: HttpMethod | Lowercase<HttpMethod>, path: string, options?: HttpRequestOptions): Promise<HttpResponse<T>>;
  /**
   * Stops requests in flight and releases the connector; later calls fail with TAU_E_CONNECTOR_CLOSED.
   *
   * @example
   * ```ts
   * const api = http_api({ baseUrl: "https://api.example.com" });
   * try { await api.extract("/ping"); } finally { await api.close(); }
   * ```
   */
  close(): Promise<void>;
}

const KIND = "http_api";

function argsError(site: TauSdkError, message: string): TauSdkError {
  return fillSdkError(site, "TAU_E_CONNECTOR_ARGS_INVALID", `${KIND}: ${message}`, "Check the call against the http_api documentation in docs/sdk.md.", { kind: KIND }, null);
}

function badAnswer(site: TauSdkError, method: string): TauSdkError {
  return fillSdkError(site, "TAU_E_INTERNAL", `The host answered ${KIND}.${method} with a value of the wrong shape.`, "", {}, null);
}

function isPath(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function isOptions(value: unknown): boolean {
  return value === undefined || (typeof value === "object" && value !== null && !ArrayIsArray(value));
}

/** The extract options without `batchSize` (the host takes it separately). */
function extractOptions(options: HttpStreamOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (options === undefined) return out;
  if (options.params !== undefined) out.params = options.params;
  if (options.recordPath !== undefined) out.recordPath = options.recordPath;
  if (options.paginate !== undefined) out.paginate = options.paginate;
  if (options.maxPages !== undefined) out.maxPages = options.maxPages;
  if (options.headers !== undefined) out.headers = options.headers;
  return out;
}

/**
 * Opens (lazily, on first use) a connector on an HTTP JSON API. Put credentials in `headers` or `auth` as
 * `ctx.secret(…)` references: they are substituted on the host and never enter the pipeline.
 *
 * @example
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb_local, http_api } from "tau/connectors";
 *
 * export default pipeline({ name: "stripe_charges", schedule: "0 * * * *" }, async (ctx) => {
 *   await using api = http_api({
 *     baseUrl: "https://api.stripe.com/v1",
 *     auth: { type: "bearer", token: ctx.secret("STRIPE_KEY") },
 *     rateLimit: { requestsPerSecond: 20 },
 *   });
 *   await using db = duckdb_local();
 *   let loaded = 0;
 *   for await (const batch of api.stream("/charges", {
 *     params: { limit: 100 },
 *     recordPath: "data",
 *     paginate: { type: "cursor", cursorParam: "starting_after", cursorPath: "data.99.id" },
 *   })) {
 *     loaded += await db.load(batch, { table: "raw_charges" });
 *   }
 *   return { loaded };
 * });
 * ```
 */
export function http_api(options: HttpApiOptions): HttpApiConnector {
  if (typeof options !== "object" || options === null || ArrayIsArray(options) || !isPath(options.baseUrl)) {
    throw createSdkError("TAU_E_CONNECTOR_ARGS_INVALID", 'http_api(options) needs { baseUrl: "https://…" }.', {
      hint: 'Pass the API\'s base URL, e.g. http_api({ baseUrl: "https://api.example.com/v1" }).',
      details: { kind: KIND },
    });
  }
  const core = createConnectorCore(KIND, options as unknown as Record<string, unknown>);

  const handle = {
    kind: KIND,
    async extract<T = Row>(path: string, opts?: HttpExtractOptions): Promise<T[]> {
      const site = callSite();
      if (!isPath(path)) throw argsError(site, "extract(path, options?) needs the path as a non-empty string.");
      if (!isOptions(opts)) throw argsError(site, "extract(path, options?) takes options as an object.");
      const value = await core.call("extract", [path, extractOptions(opts)], site);
      if (!ArrayIsArray(value)) throw badAnswer(site, "extract");
      return value as T[];
    },
    stream<T = Row>(path: string, opts?: HttpStreamOptions): RowStream<T> {
      const site = callSite();
      if (!isPath(path)) throw argsError(site, "stream(path, options?) needs the path as a non-empty string.");
      if (!isOptions(opts)) throw argsError(site, "stream(path, options?) takes options as an object.");
      const batchSize = opts?.batchSize ?? DEFAULT_BATCH_SIZE;
      if (typeof batchSize !== "number" || !NumberIsInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw argsError(site, `stream's batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}.`);
      }
      return createRowStream<T>(core, path, [extractOptions(opts)], batchSize);
    },
    async request<T = unknown>(method: string, path: string, opts?: HttpRequestOptions): Promise<HttpResponse<T>> {
      const site = callSite();
      if (!isPath(method)) throw argsError(site, 'request(method, path, options?) needs the method, e.g. "POST".');
      if (!isPath(path)) throw argsError(site, "request(method, path, options?) needs the path as a non-empty string.");
      if (!isOptions(opts)) throw argsError(site, "request(method, path, options?) takes options as an object.");
      const value = (await core.call("request", [method, path, opts ?? {}], site)) as HttpResponse<T> | null;
      if (value === null || typeof value !== "object" || typeof value.status !== "number") throw badAnswer(site, "request");
      return value;
    },
    close(): Promise<void> {
      return core.close();
    },
  };
  ObjectDefineProperty(handle, asyncDisposeSymbol, { value: (): Promise<void> => core.close() });
  return ObjectFreeze(handle) as unknown as HttpApiConnector;
}
