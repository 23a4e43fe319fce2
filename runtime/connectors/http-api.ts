/**
 * `http_api`: a JSON/REST service as a connector, host side. Options and every call's arguments are validated
 * here (they are hostile JSON); secret markers in options were substituted by the bridge before `open`.
 *
 * Methods (`connector.call`): `extract [path, opts]` → records (capped by limits.extractRows and
 * limits.bridgeBytes), `request [method, path, opts]` → `{status, headers, body}`, and `openCursor` (stream):
 * one batch per page. See docs/connectors.md.
 */
import type { ConnectorContext, ConnectorDriver, HostConnector, RowCursor, StreamingConnector } from "./types";
import { TauError } from "../../server/contract";
import { HTTP_API_DEFAULTS, HTTP_API_KIND, HttpApiClient, type CompiledHttpApiOptions, type HttpAuth } from "./http-api-client";
import { DEFAULT_MAX_PAGES, pages, resolvePath, type ExtractRequest, type Page, type Pagination, type QueryValue } from "./http-api-pages";
import { portOf, resolveEgress } from "./http-api-transport";

export { HTTP_API_KIND } from "./http-api-client";

const OPTION_KEYS = ["baseUrl", "headers", "auth", "timeoutMs", "retries", "rateLimit", "maxResponseBytes"];
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the transport owns. */
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection"]);

function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", `${HTTP_API_KIND}: ${message}`, { kind: HTTP_API_KIND, ...details });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string" || v === "") throw argsInvalid(`${what} must be a non-empty string.`, { option: what });
  if (/[\r\n\0]/.test(v)) throw argsInvalid(`${what} must not contain line breaks.`, { option: what });
  return v;
}

function num(v: unknown, what: string, min: number, max: number, fallback: number, integer = true): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw argsInvalid(`${what} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}.`, { option: what });
  }
  return v;
}

function headerMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw argsInvalid(`${what} must be an object of header name → string value.`, { option: what });
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (!HEADER_NAME.test(k)) throw argsInvalid(`${what}: ${JSON.stringify(k.slice(0, 60))} is not a valid header name.`, { option: what });
    if (RESERVED_HEADERS.has(k.toLowerCase())) throw argsInvalid(`${what}: the ${k} header is set by the connector.`, { option: what });
    if (typeof value !== "string" || /[\r\n\0]/.test(value)) throw argsInvalid(`${what}.${k} must be a string without line breaks.`, { option: what });
    out[k] = value;
  }
  return out;
}

function parseAuth(v: unknown): HttpAuth | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw argsInvalid('auth must be { type: "bearer" | "basic" | "apiKey", … }.', { option: "auth" });
  switch (v.type) {
    case "bearer":
      return { type: "bearer", token: str(v.token, "auth.token") };
    case "basic": {
      const username = str(v.username, "auth.username");
      if (username.includes(":")) throw argsInvalid("auth.username must not contain ':' (HTTP basic auth cannot carry it).", { option: "auth.username" });
      if (typeof v.password !== "string" || /[\r\n\0]/.test(v.password)) throw argsInvalid("auth.password must be a string.", { option: "auth.password" });
      return { type: "basic", username, password: v.password };
    }
    case "apiKey": {
      const value = str(v.value, "auth.value");
      if ((v.header === undefined) === (v.query === undefined)) {
        throw argsInvalid("auth of type apiKey needs exactly one of header (a header name) or query (a query parameter name).", { option: "auth" });
      }
      if (v.header !== undefined) {
        const header = str(v.header, "auth.header");
        if (!HEADER_NAME.test(header)) throw argsInvalid("auth.header is not a valid header name.", { option: "auth.header" });
        return { type: "apiKey", header, value };
      }
      return { type: "apiKey", query: str(v.query, "auth.query"), value };
    }
    default:
      throw argsInvalid('auth.type must be "bearer", "basic" or "apiKey".', { option: "auth.type" });
  }
}

/**
 * Validates and defaults http_api's options (options in, compiled options out).
 *
 * @example
 * ```ts
 * const o = compileHttpApiOptions({ baseUrl: "https://api.example.com", rateLimit: { requestsPerSecond: 2 } }, ctx);
 * o.requestsPerSecond; // 2
 * ```
 */
export function compileHttpApiOptions(options: Record<string, unknown>, ctx: ConnectorContext): CompiledHttpApiOptions {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw argsInvalid(`there is no option '${key.slice(0, 60)}' (options: ${OPTION_KEYS.join(", ")}).`, { option: key.slice(0, 60) });
  }
  const rawBase = str(options.baseUrl, "baseUrl");
  let baseUrl: URL;
  try {
    baseUrl = new URL(rawBase);
  } catch {
    throw argsInvalid("baseUrl must be an absolute URL such as https://api.example.com/v1.", { option: "baseUrl" });
  }
  if (baseUrl.protocol !== "http:" && baseUrl.protocol !== "https:") throw argsInvalid("baseUrl must be an http or https URL.", { option: "baseUrl" });
  if (baseUrl.username !== "" || baseUrl.password !== "") {
    throw argsInvalid('baseUrl must not carry credentials; use auth: { type: "basic", username, password }.', { option: "baseUrl" });
  }
  const rateLimit = options.rateLimit;
  let requestsPerSecond: number | null = null;
  if (rateLimit !== undefined && rateLimit !== null) {
    if (!isObject(rateLimit)) throw argsInvalid("rateLimit must be { requestsPerSecond: number }.", { option: "rateLimit" });
    requestsPerSecond = num(rateLimit.requestsPerSecond, "rateLimit.requestsPerSecond", 0.001, 10_000, 1, false);
  }
  const cap = Math.min(HTTP_API_DEFAULTS.maxResponseBytes, ctx.limits.bridgeBytes);
  return {
    baseUrl,
    headers: headerMap(options.headers, "headers"),
    auth: parseAuth(options.auth),
    timeoutMs: num(options.timeoutMs, "timeoutMs", 1, 600_000, HTTP_API_DEFAULTS.timeoutMs),
    retries: num(options.retries, "retries", 0, 10, HTTP_API_DEFAULTS.retries),
    requestsPerSecond,
    maxResponseBytes: Math.min(num(options.maxResponseBytes, "maxResponseBytes", 1, ctx.limits.bridgeBytes, cap), ctx.limits.bridgeBytes),
    maxRetryDelayMs: HTTP_API_DEFAULTS.maxRetryDelayMs,
    retryBaseMs: HTTP_API_DEFAULTS.retryBaseMs,
  };
}

/**
 * The `http_api` driver the ConnectorHost registers.
 *
 * @example
 * ```ts
 * const api = await new HttpApiDriver().open({ baseUrl: "https://api.example.com/v1", auth: { type: "bearer", token } }, ctx);
 * const users = await api.call("extract", ["/users", { recordPath: "data" }]);
 * ```
 */
export class HttpApiDriver implements ConnectorDriver {
  readonly kind = HTTP_API_KIND;

  /** `overrides` tunes the retry timing (tests use a short backoff). */
  constructor(private readonly overrides: Partial<Pick<CompiledHttpApiOptions, "retryBaseMs" | "maxRetryDelayMs">> = {}) {}

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const compiled = { ...compileHttpApiOptions(options, ctx), ...this.overrides };
    // Fail at open when the base URL itself is out of policy (every request is checked again).
    await resolveEgress(ctx.policy, compiled.baseUrl.hostname, portOf(compiled.baseUrl), HTTP_API_KIND);
    return new HttpApiConnector(new HttpApiClient(compiled, ctx.policy), ctx);
  }
}

/**
 * What `request` answers the guest.
 *
 * @example
 * ```ts
 * const res = (await api.call("request", ["GET", "/health"])) as HttpApiResponse; // { status: 200, headers: {…}, body: { ok: true } }
 * ```
 */
export interface HttpApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * An open `http_api` handle: `extract`, `request`, and `openCursor` for `stream()`.
 *
 * @example
 * ```ts
 * const cursor = await api.openCursor("/events", [{ paginate: { type: "link" } }], 1000);
 * for (let batch = await cursor.next(); batch !== null; batch = await cursor.next()) console.log(batch.length);
 * await cursor.close();
 * ```
 */
export class HttpApiConnector implements StreamingConnector {
  readonly kind = HTTP_API_KIND;
  private closed = false;
  private readonly cursors = new Set<RowCursor>();

  constructor(
    readonly client: HttpApiClient,
    private readonly ctx: ConnectorContext,
  ) {}

  async call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    refuseMarkers(args);
    switch (method) {
      case "extract":
        return this.extract(parseExtract(args[0], args[1]));
      case "request":
        return this.request(args[0], args[1], args[2]);
      default:
        throw argsInvalid(`there is no method '${String(method).slice(0, 60)}' (methods: extract, stream, request).`, { method: String(method).slice(0, 60) });
    }
  }

  /** All records of all pages, under the row cap and the bridge's byte cap. */
  async extract(req: ExtractRequest): Promise<unknown[]> {
    const maxRows = this.ctx.limits.extractRows;
    const maxBytes = this.ctx.limits.bridgeBytes;
    const out: unknown[] = [];
    let bytes = 0;
    for await (const page of pages(this.client, req)) {
      bytes += page.bytes;
      if (out.length + page.records.length > maxRows) {
        throw new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `${HTTP_API_KIND}: the extract passes ${maxRows} records, the most one extract may return.`, {
          kind: HTTP_API_KIND,
          limitRows: maxRows,
          path: req.path.slice(0, 200),
        }, "Use stream(path, opts) to read page by page, or set maxPages / narrower params.");
      }
      if (bytes > maxBytes) {
        throw new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `${HTTP_API_KIND}: the extract's pages are larger than ${maxBytes} bytes.`, { kind: HTTP_API_KIND, limitBytes: maxBytes });
      }
      for (const r of page.records) out.push(r);
    }
    return out;
  }

  /** One request, any method; the body comes back parsed when it is JSON, as text otherwise. */
  async request(methodArg: unknown, pathArg: unknown, optsArg: unknown): Promise<HttpApiResponse> {
    const method = typeof methodArg === "string" ? methodArg.toUpperCase() : "";
    if (!METHODS.has(method)) throw argsInvalid(`request(method, path, opts?): method must be one of ${[...METHODS].join(", ")}.`, { argument: "method" });
    const path = str(pathArg, "path");
    const opts = optsArg === undefined || optsArg === null ? {} : optsArg;
    if (!isObject(opts)) throw argsInvalid("request(method, path, opts?): opts must be an object.", { argument: "opts" });
    for (const key of Object.keys(opts)) {
      if (!["params", "body", "headers", "throwHttpErrors"].includes(key)) throw argsInvalid(`request has no option '${key.slice(0, 60)}' (params, body, headers, throwHttpErrors).`);
    }
    const headers = headerMap(opts.headers, "headers");
    let body: Buffer | undefined;
    if (opts.body !== undefined && opts.body !== null) {
      const hasType = Object.keys(headers).some((k) => k.toLowerCase() === "content-type");
      if (typeof opts.body === "string") {
        body = Buffer.from(opts.body, "utf8");
        if (!hasType) headers["content-type"] = "text/plain; charset=utf-8";
      } else {
        body = Buffer.from(JSON.stringify(opts.body), "utf8");
        if (!hasType) headers["content-type"] = "application/json";
      }
    }
    const throwHttpErrors = opts.throwHttpErrors === undefined ? true : opts.throwHttpErrors;
    if (typeof throwHttpErrors !== "boolean") throw argsInvalid("request option throwHttpErrors must be a boolean.");
    const url = resolvePath(this.client.options.baseUrl, path, parseParams(opts.params));
    const res = await this.client.send({ method, url, headers, body }, !throwHttpErrors);
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) outHeaders[k] = Array.isArray(v) ? v.join(", ") : v;
    return { status: res.status, headers: outHeaders, body: decodeBody(res.body, outHeaders["content-type"] ?? "", method) };
  }

  /** stream(): batches of at most `batchSize` records, one page held at a time. `params[0]` is the extract options. */
  async openCursor(path: string, params: unknown[], batchSize: number): Promise<RowCursor> {
    if (this.closed) throw new TauError("TAU_E_CONNECTOR_CLOSED");
    refuseMarkers([path, params]);
    const req = parseExtract(path, Array.isArray(params) ? params[0] : undefined);
    const size = Number.isInteger(batchSize) && batchSize > 0 ? batchSize : 10_000;
    const iterator = pages(this.client, req);
    let buffer: unknown[] = [];
    let done = false;
    const cursors = this.cursors;
    const cursor: RowCursor = {
      async next() {
        while (buffer.length === 0 && !done) {
          const r: IteratorResult<Page> = await iterator.next();
          if (r.done) done = true;
          else buffer = r.value.records;
        }
        if (buffer.length === 0) return null;
        const batch = buffer.length <= size ? buffer : buffer.slice(0, size);
        buffer = buffer.length <= size ? [] : buffer.slice(size);
        return batch as Record<string, unknown>[];
      },
      async close() {
        if (!done) {
          done = true;
          buffer = [];
          await iterator.return(undefined).catch(() => undefined);
        }
        cursors.delete(cursor);
      },
    };
    cursors.add(cursor);
    return cursor;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    await Promise.all([...this.cursors].map((c) => c.close()));
  }
}

/** Secret markers are substituted in connector options only; in a call they would be sent as literal text. */
function refuseMarkers(args: unknown): void {
  let text = "";
  try {
    text = JSON.stringify(args) ?? "";
  } catch {
    return;
  }
  if (text.includes("{{tau.secret:")) {
    throw argsInvalid("a ctx.secret(…) reference can be used only in the connector's options (headers, auth), not in a call's arguments.");
  }
}

function parseParams(v: unknown): Record<string, QueryValue | QueryValue[]> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw argsInvalid("params must be an object of name → string, number, boolean (or an array of them).", { argument: "params" });
  const out: Record<string, QueryValue | QueryValue[]> = {};
  const scalar = (x: unknown): x is QueryValue => typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x));
  for (const [k, value] of Object.entries(v)) {
    if (value === null || value === undefined) continue;
    if (scalar(value)) out[k] = value;
    else if (Array.isArray(value) && value.every(scalar)) out[k] = value as QueryValue[];
    else throw argsInvalid(`params.${k.slice(0, 60)} must be a string, number, boolean or an array of them.`, { argument: "params" });
  }
  return out;
}

function dotPath(v: unknown, what: string): string[] {
  if (v === undefined || v === null || v === "") return [];
  const s = str(v, what);
  return s.split(".");
}

function parsePaginate(v: unknown): Pagination | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw argsInvalid('paginate must be an object like { type: "page", pageParam: "page", pageSize: 100 }.', { argument: "paginate" });
  switch (v.type) {
    case "page":
      return {
        type: "page",
        pageParam: str(v.pageParam, "paginate.pageParam"),
        sizeParam: v.sizeParam === undefined || v.sizeParam === null ? null : str(v.sizeParam, "paginate.sizeParam"),
        pageSize: num(v.pageSize, "paginate.pageSize", 1, 1_000_000, NaN),
        startPage: num(v.startPage, "paginate.startPage", 0, 1_000_000_000, 1),
      };
    case "offset":
      return {
        type: "offset",
        offsetParam: str(v.offsetParam, "paginate.offsetParam"),
        limitParam: str(v.limitParam, "paginate.limitParam"),
        limit: num(v.limit, "paginate.limit", 1, 1_000_000, NaN),
      };
    case "cursor":
      return { type: "cursor", cursorParam: str(v.cursorParam, "paginate.cursorParam"), cursorPath: dotPath(str(v.cursorPath, "paginate.cursorPath"), "paginate.cursorPath") };
    case "link":
      return { type: "link" };
    default:
      throw argsInvalid('paginate.type must be "page", "offset", "cursor" or "link".', { argument: "paginate.type" });
  }
}

/**
 * Validates extract/stream arguments: `(path, { params?, recordPath?, paginate?, maxPages?, headers? })`.
 *
 * @example
 * ```ts
 * parseExtract("/users", { params: { active: true }, maxPages: 3 }); // { path: "/users", params: { active: true }, recordPath: [], paginate: null, maxPages: 3, headers: {} }
 * ```
 */
export function parseExtract(pathArg: unknown, optsArg: unknown): ExtractRequest {
  const path = str(pathArg, "path");
  const opts = optsArg === undefined || optsArg === null ? {} : optsArg;
  if (!isObject(opts)) throw argsInvalid("extract(path, opts?): opts must be an object.", { argument: "opts" });
  for (const key of Object.keys(opts)) {
    if (!["params", "recordPath", "paginate", "maxPages", "headers"].includes(key)) {
      throw argsInvalid(`extract has no option '${key.slice(0, 60)}' (params, recordPath, paginate, maxPages, headers).`);
    }
  }
  const paginate = parsePaginate(opts.paginate);
  if (paginate && "pageSize" in paginate && Number.isNaN(paginate.pageSize)) throw argsInvalid("paginate.pageSize is required for page pagination.");
  if (paginate && "limit" in paginate && Number.isNaN(paginate.limit)) throw argsInvalid("paginate.limit is required for offset pagination.");
  return {
    path,
    params: parseParams(opts.params),
    recordPath: dotPath(opts.recordPath, "recordPath"),
    paginate,
    maxPages: num(opts.maxPages, "maxPages", 1, 1_000_000, DEFAULT_MAX_PAGES),
    headers: headerMap(opts.headers, "headers"),
  };
}

function decodeBody(body: Buffer, contentType: string, method: string): unknown {
  if (method === "HEAD" || body.length === 0) return null;
  const text = body.toString("utf8");
  if (/\bjson\b/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
