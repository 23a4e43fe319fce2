import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY, type Policy } from "../../policies";
import { HttpApiConnector, HttpApiDriver, type ConnectorContext } from "../../runtime/connectors";
import { parseRetryAfter } from "../../runtime/connectors/http-api-client";
import { nextLink } from "../../runtime/connectors/http-api-pages";
import { pinnedLookup } from "../../runtime/connectors/http-api-transport";

interface Seen {
  remotePort: number;
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

type Handler = (req: Seen, res: http.ServerResponse) => void;

let server: http.Server;
let port: number;
let base: string;
let handler: Handler;
let seen: Seen[] = [];
const open: HttpApiConnector[] = [];
const driver = new HttpApiDriver({ retryBaseMs: 10, maxRetryDelayMs: 3000 });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = { remotePort: req.socket.remotePort ?? 0, method: req.method ?? "", url: new URL(req.url ?? "/", "http://x"), headers: req.headers, body: Buffer.concat(chunks).toString(), at: performance.now() };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen = [];
  handler = (_req, res) => json(res, 200, []);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function ctx(policy: Policy = LOCAL_POLICY): ConnectorContext {
  return { dataDir: "/nonexistent", policy, limits: policy.limits };
}

async function connect(options: Record<string, unknown> = {}, context = ctx()): Promise<HttpApiConnector> {
  const c = (await driver.open({ baseUrl: `${base}/v1`, ...options }, context)) as HttpApiConnector;
  open.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown>; hint: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown>; hint: string };
  }
  throw new Error("expected the call to fail");
}

const items = Array.from({ length: 5 }, (_v, i) => ({ id: i + 1 }));

describe("http_api: auth", () => {
  it("bearer auth sends Authorization: Bearer <token>", async () => {
    const c = await connect({ auth: { type: "bearer", token: "tok-123456" } });
    expect(await c.call("extract", ["/users"])).toEqual([]);
    expect(seen[0].headers.authorization).toBe("Bearer tok-123456");
    expect(seen[0].url.pathname).toBe("/v1/users");
  });

  it("basic auth sends the base64 of username:password", async () => {
    const c = await connect({ auth: { type: "basic", username: "ada", password: "p4ss:word" } });
    await c.call("extract", ["users"]);
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from("ada:p4ss:word").toString("base64")}`);
  });

  it("an API key goes in the named header, or in the named query parameter", async () => {
    const h = await connect({ auth: { type: "apiKey", header: "X-Api-Key", value: "key-abcdef" }, headers: { "X-Tenant": "t1" } });
    await h.call("extract", ["users", { params: { active: true, tags: ["a", "b"] } }]);
    expect(seen[0].headers["x-api-key"]).toBe("key-abcdef");
    expect(seen[0].headers["x-tenant"]).toBe("t1");
    expect(seen[0].url.searchParams.getAll("tags")).toEqual(["a", "b"]);
    expect(seen[0].url.searchParams.get("active")).toBe("true");
    const q = await connect({ auth: { type: "apiKey", query: "api_key", value: "key-abcdef" } });
    await q.call("extract", ["users"]);
    expect(seen[1].url.searchParams.get("api_key")).toBe("key-abcdef");
    expect(seen[1].headers["x-api-key"]).toBeUndefined();
  });

  it("401 is TAU_E_CONNECTOR_AUTH_FAILED, 403 PERMISSION_DENIED, 404 UNKNOWN_OBJECT, other 4xx REQUEST_REJECTED with the service's answer", async () => {
    const c = await connect();
    for (const [status, code] of [
      [401, "TAU_E_CONNECTOR_AUTH_FAILED"],
      [403, "TAU_E_CONNECTOR_PERMISSION_DENIED"],
      [404, "TAU_E_CONNECTOR_UNKNOWN_OBJECT"],
      [422, "TAU_E_CONNECTOR_REQUEST_REJECTED"],
    ] as const) {
      handler = (_req, res) => json(res, status, { error: `status ${status}` });
      const err = await failure(c.call("extract", ["/thing"]));
      expect(err.code).toBe(code);
      expect(err.details).toMatchObject({ status, method: "GET", url: `${base}/v1/thing` });
      if (status === 422) expect(err.details.body).toContain("status 422");
    }
    // 4xx are not retried.
    expect(seen).toHaveLength(4);
  });

  it("a secret in a header or the API key query never appears in an error", async () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    const c = await connect({ headers: { "X-Token": secret }, auth: { type: "apiKey", query: "key", value: `${secret}-q` }, retries: 0 });
    handler = (_req, res) => json(res, 404, { message: "nope" });
    const notFound = await failure(c.call("extract", ["/thing", { params: { a: 1 } }]));
    expect(notFound.code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(String(notFound.details.url)).toContain("key=[redacted]");
    handler = (_req, res) => json(res, 500, { message: "boom" });
    const failed = await failure(c.call("extract", ["/thing"]));
    expect(failed.code).toBe("TAU_E_CONNECTOR_SERVICE_UNAVAILABLE");
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const dead = (await driver.open({ baseUrl: `http://127.0.0.1:${deadPort}`, headers: { "X-Token": secret }, auth: { type: "bearer", token: secret }, retries: 0 }, ctx())) as HttpApiConnector;
    open.push(dead);
    const unreachable = await failure(dead.call("extract", ["/x"]));
    expect(unreachable.code).toBe("TAU_E_CONNECTOR_UNREACHABLE");
    expect(unreachable.details).toMatchObject({ host: "127.0.0.1", port: deadPort, cause: "ECONNREFUSED" });
    for (const err of [notFound, failed, unreachable]) {
      const text = JSON.stringify({ message: err.message, details: err.details, hint: err.hint });
      expect(text).not.toContain(secret);
    }
  });

  it("credentials go only to the base URL's origin: a next link to another allowed host gets none", async () => {
    const other = `http://localhost:${port}`;
    handler = (req, res) => {
      if (req.url.searchParams.get("p") === "2") json(res, 200, [{ id: 2 }]);
      else json(res, 200, [{ id: 1 }], { link: `<${other}/v1/list?p=2>; rel="next"` });
    };
    const c = await connect({ auth: { type: "bearer", token: "tok-123456" }, headers: { "X-Tenant": "t1" } });
    expect(await c.call("extract", ["/list", { paginate: { type: "link" } }])).toEqual([{ id: 1 }, { id: 2 }]);
    expect(seen[0].headers.authorization).toBe("Bearer tok-123456");
    expect(seen[1].headers.host).toBe(`localhost:${port}`);
    expect(seen[1].headers.authorization).toBeUndefined();
    expect(seen[1].headers["x-tenant"]).toBeUndefined();
  });
});

describe("http_api: pagination and records", () => {
  it("page pagination reads pages until one is short, starting at startPage", async () => {
    handler = (req, res) => {
      const page = Number(req.url.searchParams.get("page"));
      const size = Number(req.url.searchParams.get("per_page"));
      json(res, 200, items.slice(page * size, page * size + size));
    };
    const c = await connect();
    const rows = await c.call("extract", ["/items", { paginate: { type: "page", pageParam: "page", sizeParam: "per_page", pageSize: 2, startPage: 0 } }]);
    expect(rows).toEqual(items);
    expect(seen.map((s) => s.url.searchParams.get("page"))).toEqual(["0", "1", "2"]);
  });

  it("offset pagination advances by the records received", async () => {
    handler = (req, res) => {
      const offset = Number(req.url.searchParams.get("offset"));
      const limit = Number(req.url.searchParams.get("limit"));
      json(res, 200, { data: { items: items.slice(offset, offset + limit) } });
    };
    const c = await connect();
    const rows = await c.call("extract", ["/items", { recordPath: "data.items", paginate: { type: "offset", offsetParam: "offset", limitParam: "limit", limit: 2 } }]);
    expect(rows).toEqual(items);
    expect(seen.map((s) => s.url.searchParams.get("offset"))).toEqual(["0", "2", "4"]);
  });

  it("cursor pagination follows the cursor found at cursorPath until it is missing", async () => {
    handler = (req, res) => {
      const at = Number(req.url.searchParams.get("after") ?? "0");
      const page = items.slice(at, at + 2);
      json(res, 200, { results: page, meta: { next: at + 2 < items.length ? String(at + 2) : null } });
    };
    const c = await connect();
    const rows = await c.call("extract", ["/items", { recordPath: "results", paginate: { type: "cursor", cursorParam: "after", cursorPath: "meta.next" } }]);
    expect(rows).toEqual(items);
    expect(seen.map((s) => s.url.searchParams.get("after"))).toEqual([null, "2", "4"]);
  });

  it("Link pagination follows rel=next (relative or absolute) until there is none", async () => {
    handler = (req, res) => {
      const p = Number(req.url.searchParams.get("p") ?? "1");
      const headers: Record<string, string> = p === 1 ? { link: `</v1/items?p=2>; rel="next", </v1/items?p=3>; rel="last"` } : p === 2 ? { link: `<${base}/v1/items?p=3>; rel=next` } : {};
      json(res, 200, [items[p - 1]], headers);
    };
    const c = await connect();
    expect(await c.call("extract", ["/items", { paginate: { type: "link" } }])).toEqual(items.slice(0, 3));
    expect(seen).toHaveLength(3);
  });

  it("maxPages stops reading after that many pages", async () => {
    handler = (req, res) => json(res, 200, [{ p: req.url.searchParams.get("page") }]);
    const c = await connect();
    expect(await c.call("extract", ["/items", { maxPages: 2, paginate: { type: "page", pageParam: "page", pageSize: 1 } }])).toEqual([{ p: "1" }, { p: "2" }]);
  });

  it("a recordPath that does not lead to an array is TAU_E_CONNECTOR_DATA_INVALID; a non-JSON answer too", async () => {
    handler = (_req, res) => json(res, 200, { data: { items: 3 } });
    const c = await connect();
    expect((await failure(c.call("extract", ["/x", { recordPath: "data.items" }]))).code).toBe("TAU_E_CONNECTOR_DATA_INVALID");
    handler = (_req, res) => res.end("<html>");
    expect((await failure(c.call("extract", ["/x"]))).code).toBe("TAU_E_CONNECTOR_DATA_INVALID");
  });

  it("an extract past limits.extractRows is TAU_E_CONNECTOR_RESULT_TOO_LARGE", async () => {
    handler = (_req, res) => json(res, 200, items);
    const policy: Policy = { ...LOCAL_POLICY, limits: { ...DEFAULT_LIMITS, extractRows: 3 } };
    const c = await connect({}, ctx(policy));
    const err = await failure(c.call("extract", ["/x"]));
    expect(err.code).toBe("TAU_E_CONNECTOR_RESULT_TOO_LARGE");
    expect(err.details.limitRows).toBe(3);
  });

  it("stream hands out one page per batch and closes mid-way without reading further pages", async () => {
    handler = (req, res) => {
      const page = Number(req.url.searchParams.get("page"));
      json(res, 200, page <= 3 ? [{ page, a: 1 }, { page, a: 2 }] : []);
    };
    const c = await connect();
    const cursor = await c.openCursor("/items", [{ paginate: { type: "page", pageParam: "page", pageSize: 2 } }], 100);
    expect(await cursor.next()).toEqual([{ page: 1, a: 1 }, { page: 1, a: 2 }]);
    expect(await cursor.next()).toEqual([{ page: 2, a: 1 }, { page: 2, a: 2 }]);
    await cursor.close();
    expect(seen).toHaveLength(2);
    const all = await c.openCursor("/items", [{ paginate: { type: "page", pageParam: "page", pageSize: 2 } }], 1);
    const batches: unknown[] = [];
    for (let b = await all.next(); b !== null; b = await all.next()) batches.push(b);
    expect(batches).toHaveLength(6);
  });
});

describe("http_api: retries, timeouts, rate limit, caps", () => {
  it("a 429 with Retry-After is retried after the delay it asks for, then succeeds", async () => {
    handler = (_req, res) => (seen.length === 1 ? json(res, 429, { error: "slow down" }, { "retry-after": "1" }) : json(res, 200, [{ ok: true }]));
    const c = await connect();
    expect(await c.call("extract", ["/x"])).toEqual([{ ok: true }]);
    expect(seen).toHaveLength(2);
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);
  });

  it("Retry-After is read as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("soon")).toBeNull();
  });

  it("500s are retried `retries` times and then fail with the retryable TAU_E_CONNECTOR_SERVICE_UNAVAILABLE", async () => {
    handler = (_req, res) => json(res, 503, { error: "down" });
    const c = await connect({ retries: 2 });
    const err = await failure(c.call("extract", ["/x"]));
    expect(err.code).toBe("TAU_E_CONNECTOR_SERVICE_UNAVAILABLE");
    expect(err.details).toMatchObject({ status: 503, attempts: 3 });
    expect(seen).toHaveLength(3);
  });

  it("a POST is not retried on a 500 (it may have been processed) but is on a 429", async () => {
    handler = (_req, res) => json(res, 500, {});
    const c = await connect({ retries: 2 });
    expect((await failure(c.call("request", ["POST", "/orders", { body: { id: 1 } }]))).code).toBe("TAU_E_CONNECTOR_SERVICE_UNAVAILABLE");
    expect(seen).toHaveLength(1);
    seen = [];
    handler = (_req, res) => (seen.length === 1 ? json(res, 429, {}, { "retry-after": "0" }) : json(res, 201, { id: 1 }));
    expect(await c.call("request", ["POST", "/orders", { body: { id: 1 } }])).toMatchObject({ status: 201, body: { id: 1 } });
    expect(seen).toHaveLength(2);
  });

  it("a request that gets no answer within timeoutMs fails with TAU_E_CONNECTOR_TIMEOUT", async () => {
    handler = () => undefined; // never answers
    const c = await connect({ timeoutMs: 200, retries: 1 });
    const err = await failure(c.call("extract", ["/slow"]));
    expect(err.code).toBe("TAU_E_CONNECTOR_TIMEOUT");
    expect(err.details).toMatchObject({ timeoutMs: 200, attempts: 2 });
    expect(seen).toHaveLength(2);
  });

  it("rateLimit spaces requests evenly, concurrent calls included", async () => {
    handler = (req, res) => json(res, 200, [{ n: req.url.searchParams.get("n") }]);
    const c = await connect({ rateLimit: { requestsPerSecond: 5 } });
    await Promise.all([0, 1, 2, 3, 4].map((n) => c.call("extract", ["/x", { params: { n } }])));
    const times = seen.map((s) => s.at).sort((a, b) => a - b);
    // Sent 200 ms apart; arrival adds socket jitter on a busy machine, so each gap gets slack and the span a little.
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(120);
    expect(times[4] - times[0]).toBeGreaterThanOrEqual(740);
  });

  it("a response body past maxResponseBytes is TAU_E_CONNECTOR_RESPONSE_TOO_LARGE, with or without Content-Length", async () => {
    const big = JSON.stringify(Array.from({ length: 500 }, (_v, i) => ({ i })));
    const c = await connect({ maxResponseBytes: 1000 });
    handler = (_req, res) => json(res, 200, JSON.parse(big));
    expect((await failure(c.call("extract", ["/x"]))).details).toMatchObject({ limitBytes: 1000 });
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(big.slice(0, 800));
      setTimeout(() => res.end(big.slice(800)), 20);
    };
    const err = await failure(c.call("extract", ["/x"]));
    expect(err.code).toBe("TAU_E_CONNECTOR_RESPONSE_TOO_LARGE");
  });
});

describe("http_api: compression and connections", () => {
  it("gzip and brotli answers are decoded, and the byte cap counts decoded bytes (a small body cannot inflate past it)", async () => {
    const records = Array.from({ length: 200 }, (_v, i) => ({ i, text: "the same text again" }));
    handler = (req, res) => {
      const gz = req.url.pathname.endsWith("/gz");
      const body = gz ? zlib.gzipSync(JSON.stringify(records)) : zlib.brotliCompressSync(JSON.stringify(records));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": gz ? "gzip" : "br", "content-length": String(body.length) });
      res.end(body);
    };
    const c = await connect();
    expect(await c.call("extract", ["/gz"])).toEqual(records);
    expect(await c.call("extract", ["/br"])).toEqual(records);
    expect(seen[0].headers["accept-encoding"]).toContain("gzip");
    const small = await connect({ maxResponseBytes: 2000 });
    expect((await failure(small.call("extract", ["/gz"]))).code).toBe("TAU_E_CONNECTOR_RESPONSE_TOO_LARGE");
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end("not gzip at all");
    };
    expect((await failure(c.call("extract", ["/bad"]))).code).toBe("TAU_E_CONNECTOR_DATA_INVALID");
  });

  it("requests of one connector reuse a kept-alive connection", async () => {
    const c = await connect();
    await c.call("extract", ["/a"]);
    await c.call("extract", ["/b"]);
    await c.call("extract", ["/c"]);
    expect(new Set(seen.map((s) => s.remotePort)).size).toBe(1);
  });
});

describe("http_api: egress policy", () => {
  const onlyLoopbackIp: Policy = { ...LOCAL_POLICY, egress: [{ host: "127.0.0.1" }] };

  it("a base URL the policy denies fails at open with TAU_E_POLICY_DENIED", async () => {
    const err = await failure(driver.open({ baseUrl: `http://localhost:${port}` }, ctx(onlyLoopbackIp)));
    expect(err.code).toBe("TAU_E_POLICY_DENIED");
    expect(err.details).toMatchObject({ rule: "egress", host: "localhost", port });
  });

  it("a Link next to a host the policy denies is refused before it is requested", async () => {
    handler = (_req, res) => json(res, 200, [{ id: 1 }], { link: `<http://localhost:${port}/v1/next>; rel="next"` });
    const c = await connect({}, ctx(onlyLoopbackIp));
    const err = await failure(c.call("extract", ["/x", { paginate: { type: "link" } }]));
    expect(err.code).toBe("TAU_E_POLICY_DENIED");
    expect(err.details).toMatchObject({ host: "localhost" });
    expect(seen).toHaveLength(1);
  });

  it("a CIDR rule is checked against the resolved addresses", async () => {
    const cidr: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "10.0.0.0/8" }] };
    expect((await failure(driver.open({ baseUrl: base }, ctx(cidr)))).code).toBe("TAU_E_POLICY_DENIED");
    const loop: Policy = { ...LOCAL_POLICY, egress: [{ cidr: "127.0.0.0/8", ports: [port] }] };
    const c = (await driver.open({ baseUrl: base }, ctx(loop))) as HttpApiConnector;
    open.push(c);
    expect(await c.call("extract", ["/x"])).toEqual([]);
  });

  it("sockets resolve only the checked host, to the checked address (no second DNS answer can rebind it)", async () => {
    const lookup = pinnedLookup({ host: "api.example.com", port: 443, address: "203.0.113.7", family: 4 });
    const one = await new Promise<unknown[]>((resolve) => lookup("api.example.com", {}, (...args: unknown[]) => resolve(args)));
    expect(one).toEqual([null, "203.0.113.7", 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup("API.example.com", { all: true }, (...args: unknown[]) => resolve(args)));
    expect(all).toEqual([null, [{ address: "203.0.113.7", family: 4 }]]);
    const other = await new Promise<unknown[]>((resolve) => lookup("evil.example.net", {}, (...args: unknown[]) => resolve(args)));
    expect((other[0] as NodeJS.ErrnoException).code).toBe("ENOTFOUND");
  });

  it("only http and https URLs are requested", async () => {
    expect((await failure(driver.open({ baseUrl: "file:///etc/passwd" }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const c = await connect();
    expect((await failure(c.call("extract", ["ftp://example.com/x"]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });
});

describe("http_api: request and arguments", () => {
  it("request sends a JSON body and answers {status, headers, body}; throwHttpErrors: false returns error statuses", async () => {
    handler = (req, res) => (req.method === "POST" ? json(res, 201, { got: JSON.parse(req.body) }, { "x-id": "7" }) : json(res, 404, { missing: true }));
    const c = await connect();
    const created = (await c.call("request", ["post", "/orders", { body: { id: 1 }, params: { dry: false } }])) as { status: number; headers: Record<string, string>; body: unknown };
    expect(created).toMatchObject({ status: 201, body: { got: { id: 1 } } });
    expect(created.headers["x-id"]).toBe("7");
    expect(seen[0].headers["content-type"]).toBe("application/json");
    expect(seen[0].url.searchParams.get("dry")).toBe("false");
    expect(await c.call("request", ["GET", "/nothing", { throwHttpErrors: false }])).toMatchObject({ status: 404, body: { missing: true } });
  });

  it("unknown options, bad methods and secret markers in call arguments are TAU_E_CONNECTOR_ARGS_INVALID", async () => {
    expect((await failure(driver.open({ baseUrl: base, retry: 3 }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(driver.open({ baseUrl: base, auth: { type: "apiKey", value: "x" } }, ctx()))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const c = await connect();
    expect((await failure(c.call("request", ["TRACE", "/x"]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect((await failure(c.call("extract", ["/x", { paginate: { type: "page", pageParam: "p" } }]))).code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    const marker = await failure(c.call("request", ["GET", "/x", { headers: { authorization: "{{tau.secret:TOKEN}}" } }]));
    expect(marker.code).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(seen).toHaveLength(0);
  });

  it("parses RFC 8288 Link headers", () => {
    expect(nextLink('<https://a/x?p=2>; rel="next", <https://a/x?p=9>; rel="last"')).toBe("https://a/x?p=2");
    expect(nextLink('<https://a/x?p=1>; rel="prev first"')).toBeNull();
    expect(nextLink('<https://a/x?p=3>; title="n"; rel="next"')).toBe("https://a/x?p=3");
    expect(nextLink(undefined)).toBeNull();
  });
});
