/**
 * `http_api` pagination: one async generator that yields each page's records for the four styles
 * (page number, offset/limit, cursor from the body, RFC 8288 `Link: <…>; rel="next"`). extract() collects it
 * under the row cap; stream() hands it out a page at a time. Every page's URL goes through the client, so each
 * one — a `next` link to another host included — is checked against the egress policy before it is requested.
 */
import { TauError } from "../../server/contract";
import { HTTP_API_KIND, type HttpApiClient } from "./http-api-client";

/**
 * A pagination style after validation (the guest's `Pagination` with defaults filled in and paths split).
 *
 * @example
 * ```ts
 * const p: Pagination = { type: "cursor", cursorParam: "after", cursorPath: ["meta", "next"] };
 * ```
 */
export type Pagination =
  | { type: "page"; pageParam: string; sizeParam: string | null; pageSize: number; startPage: number }
  | { type: "offset"; offsetParam: string; limitParam: string; limit: number }
  | { type: "cursor"; cursorParam: string; cursorPath: string[] }
  | { type: "link" };

/**
 * One query parameter value.
 *
 * @example
 * ```ts
 * const v: QueryValue = 100;
 * ```
 */
export type QueryValue = string | number | boolean;

/**
 * extract/stream options after validation.
 *
 * @example
 * ```ts
 * const req: ExtractRequest = parseExtract("/users", { recordPath: "data", paginate: { type: "link" } });
 * ```
 */
export interface ExtractRequest {
  path: string;
  params: Record<string, QueryValue | QueryValue[]>;
  recordPath: string[];
  paginate: Pagination | null;
  maxPages: number;
  headers: Record<string, string>;
}

/**
 * Pages one extract or stream reads at most when the pipeline sets no `maxPages`.
 *
 * @example
 * ```ts
 * const limit = opts.maxPages ?? DEFAULT_MAX_PAGES; // 1000
 * ```
 */
export const DEFAULT_MAX_PAGES = 1000;

/**
 * Builds the URL of `path` under the base URL: `/v1` + `users` → `/v1/users`; an absolute URL stays as it is (the client refuses schemes other than http and https).
 *
 * @example
 * ```ts
 * resolvePath(new URL("https://api.example.com/v1"), "users?active=1", { page: 2 }).href;
 * // "https://api.example.com/v1/users?active=1&page=2"
 * ```
 */
export function resolvePath(base: URL, path: string, params: Record<string, QueryValue | QueryValue[]> = {}): URL {
  let url: URL;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    url = new URL(path);
  } else {
    url = new URL(base.href);
    const q = path.indexOf("?");
    const pathPart = q < 0 ? path : path.slice(0, q);
    url.pathname = `${base.pathname.replace(/\/+$/, "")}/${pathPart.replace(/^\/+/, "")}`;
    if (q >= 0) for (const [k, v] of new URLSearchParams(path.slice(q + 1))) url.searchParams.append(k, v);
  }
  setParams(url, params);
  return url;
}

function setParams(url: URL, params: Record<string, QueryValue | QueryValue[]>): void {
  for (const [k, v] of Object.entries(params)) {
    url.searchParams.delete(k);
    if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
    else url.searchParams.set(k, String(v));
  }
}

/**
 * Follows a dot path (`data.items`, `meta.0.next`) into a parsed body; undefined when a step is missing.
 *
 * @example
 * ```ts
 * atPath({ data: { items: [1, 2] } }, ["data", "items"]); // [1, 2]
 * atPath({ data: null }, ["data", "items"]);                // undefined
 * ```
 */
export function atPath(value: unknown, path: readonly string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * The `rel="next"` target of an RFC 8288 Link header, or null.
 *
 * @example
 * ```ts
 * nextLink('<https://api.example.com/x?page=2>; rel="next", <https://api.example.com/x?page=9>; rel="last"'); // "https://api.example.com/x?page=2"
 * ```
 */
export function nextLink(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header.join(", ") : header;
  if (!text) return null;
  const re = /<([^>]*)>((?:\s*;\s*[^;,]*)*)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    for (const param of m[2].split(";")) {
      const kv = /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param);
      if (kv && kv[1].toLowerCase().split(/\s+/).includes("next")) return m[1];
    }
  }
  return null;
}

/**
 * One page of records as `pages` yields it.
 *
 * @example
 * ```ts
 * for await (const page of pages(client, req)) console.log(page.records.length, page.bytes);
 * ```
 */
export interface Page {
  records: unknown[];
  /** Bytes of the page's body. */
  bytes: number;
}

function parseJsonBody(body: Buffer, url: string): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new TauError("TAU_E_CONNECTOR_DATA_INVALID", `${HTTP_API_KIND}: the answer to GET ${url} is not JSON.`, {
      kind: HTTP_API_KIND,
      format: "json",
      where: url,
      body: body.subarray(0, 300).toString("utf8"),
    });
  }
}

function recordsOf(body: unknown, recordPath: string[], url: string): unknown[] {
  const found = recordPath.length === 0 ? body : atPath(body, recordPath);
  if (Array.isArray(found)) return found;
  if (recordPath.length === 0 && found !== null && typeof found === "object") return [found];
  // A last page may carry null instead of an empty list.
  if (found === null) return [];
  throw new TauError(
    "TAU_E_CONNECTOR_DATA_INVALID",
    recordPath.length === 0
      ? `${HTTP_API_KIND}: the answer to GET ${url} is not a JSON array or object; pass recordPath to say where the records are.`
      : `${HTTP_API_KIND}: the answer to GET ${url} has no array at recordPath "${recordPath.join(".")}".`,
    { kind: HTTP_API_KIND, format: "json", where: url, recordPath: recordPath.join(".") },
    'Set recordPath to the dot path of the records array in the answer, e.g. "data.items".',
  );
}

/**
 * Yields each page's records until the pagination ends or maxPages pages were read.
 *
 * @example
 * ```ts
 * const all: unknown[] = [];
 * for await (const page of pages(client, parseExtract("/users", { paginate: { type: "link" } }))) all.push(...page.records);
 * ```
 */
export async function* pages(client: HttpApiClient, req: ExtractRequest): AsyncGenerator<Page> {
  const p = req.paginate;
  let url = resolvePath(client.options.baseUrl, req.path, req.params);
  let pageNo = p?.type === "page" ? p.startPage : 0;
  let offset = 0;
  let lastCursor: unknown = undefined;
  const seen = new Set<string>();
  for (let read = 0; read < req.maxPages; read++) {
    if (p?.type === "page") setParams(url, { [p.pageParam]: pageNo, ...(p.sizeParam ? { [p.sizeParam]: p.pageSize } : {}) });
    if (p?.type === "offset") setParams(url, { [p.offsetParam]: offset, [p.limitParam]: p.limit });
    const res = await client.send({ method: "GET", url, headers: req.headers });
    const shown = url.pathname + url.search;
    const body = parseJsonBody(res.body, shown.length > 200 ? `${shown.slice(0, 200)}…` : shown);
    const records = recordsOf(body, req.recordPath, url.pathname);
    yield { records, bytes: res.body.length };
    if (p === null) return;
    switch (p.type) {
      case "page":
        if (records.length === 0 || records.length < p.pageSize) return;
        pageNo += 1;
        break;
      case "offset":
        if (records.length === 0 || records.length < p.limit) return;
        offset += records.length;
        break;
      case "cursor": {
        const cursor = atPath(body, p.cursorPath);
        if (cursor === undefined || cursor === null || cursor === "" || cursor === false) return;
        if (typeof cursor !== "string" && typeof cursor !== "number") {
          throw new TauError("TAU_E_CONNECTOR_DATA_INVALID", `${HTTP_API_KIND}: the cursor at "${p.cursorPath.join(".")}" is not a string or number.`, {
            kind: HTTP_API_KIND,
            format: "json",
            where: p.cursorPath.join("."),
          });
        }
        // A service that hands back the same cursor would loop forever.
        if (cursor === lastCursor) return;
        lastCursor = cursor;
        setParams(url, { [p.cursorParam]: cursor });
        break;
      }
      case "link": {
        const next = nextLink(res.headers.link);
        if (next === null) return;
        let target: URL;
        try {
          target = new URL(next, res.url);
        } catch {
          throw new TauError("TAU_E_CONNECTOR_DATA_INVALID", `${HTTP_API_KIND}: the Link header's next target is not a URL.`, { kind: HTTP_API_KIND, where: "Link" });
        }
        if (seen.has(target.href)) return;
        seen.add(url.href);
        url = target;
        break;
      }
    }
  }
}
