/**
 * Hosted mode's auth and tenant scoping, against a real in-process daemon: every route of the OpenAPI
 * catalog and the WebSocket, without a token, with bad tokens, with a viewer doing operator work, and with
 * tenant B's token aimed at tenant A's pipelines, runs, graph runs, versions and secrets.
 */
import { generateKeyPairSync } from "node:crypto";
import fastify from "fastify";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../server";
import type { RunView } from "../../server/contract";
import { installAuth } from "../../server/http/auth";
import { busyWait, pipelineSource, tempHome } from "./helpers/daemon";
import { call, exchange, JWT_SECRET, openEvents, startHosted, token } from "./hosted-helpers";

const home = tempHome();
let daemon: Daemon;
const PLATFORM = token("admin", "admin");
let A_OPERATOR: string;
let A_VIEWER: string;
let B_ADMIN: string;
/** Tenant A's ids, which tenant B must never reach. */
const A_PIPE = "alpha-private";
let aRunId: string;
let aGraphRunId: string;

interface Operation {
  method: string;
  path: string;
  access: string;
}
let catalog: Operation[];

beforeAll(async () => {
  daemon = await startHosted(home.home);
  for (const id of ["ta", "tb"]) expect((await call(`${daemon.url}/api/tenants`, PLATFORM, { method: "POST", body: { id } })).status).toBe(201);
  A_OPERATOR = token("ta", "operator");
  A_VIEWER = token("ta", "viewer");
  B_ADMIN = token("tb", "admin");
  const source = pipelineSource(A_PIPE, `  ctx.log("tenant a was here");\n  return { owner: "ta" };`);
  expect((await call(`${daemon.url}/api/pipelines`, A_OPERATOR, { method: "POST", body: { source, filename: "alpha.ts" } })).status).toBe(201);
  const run = await call<RunView>(`${daemon.url}/api/pipelines/${A_PIPE}/runs`, A_OPERATOR, { method: "POST", body: { wait: true, waitMs: 30_000 } });
  expect(run.body.status).toBe("succeeded");
  aRunId = run.body.id;
  const graph = await call<{ id: string }>(`${daemon.url}/api/dag/runs`, A_OPERATOR, { method: "POST", body: { wait: true, waitMs: 30_000 } });
  expect(graph.status).toBe(201);
  aGraphRunId = graph.body.id;
  expect((await call(`${daemon.url}/api/secrets/A_ONLY`, A_OPERATOR, { method: "PUT", body: { value: "a-secret-value-123" } })).status).toBe(200);

  const doc = await call<{ paths: Record<string, Record<string, { "x-tau-access": string }>> }>(`${daemon.url}/api/openapi.json`, null);
  expect(doc.status).toBe(200);
  catalog = Object.entries(doc.body.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, access: op["x-tau-access"] })),
  );
}, 120_000);

afterAll(async () => {
  await daemon?.close();
  home.remove();
});

/** A concrete request for a catalog route, aimed at tenant A's ids. */
function requestFor(op: Operation): { url: string; method: string; body?: unknown } {
  const id = op.path.startsWith("/api/dag/runs/") ? aGraphRunId : aRunId;
  let path = op.path.replace("{name}", op.path.startsWith("/api/secrets") ? "A_ONLY" : A_PIPE).replace("{id}", id);
  if (op.path === "/api/pipelines/{name}/code") path += "?version=1";
  if (op.path === "/api/policy") path += "?tenant=ta";
  if (op.path === "/api/errors") path += `?pipeline=${A_PIPE}`;
  const bodies: Record<string, unknown> = {
    "POST /api/pipelines": { source: pipelineSource("probe", "  return 1;"), filename: "probe.ts" },
    "POST /api/pipelines/{name}/runs": {},
    "POST /api/pipelines/{name}/rollback": {},
    "POST /api/pipelines/{name}/schedule": { enabled: false },
    "POST /api/pipelines/{name}/depends": { dependsOn: [] },
    "POST /api/dag/runs": { from: A_PIPE },
    "POST /api/tenants": { id: "tc" },
    "POST /api/tokens": { tenant: "ta", role: "admin", ttl: "1h" },
    "PUT /api/policy": { connectors: ["*"], egress: [{ host: "*" }], secrets: ["*"], duckdbAnyPath: true, limits: {} },
    "PUT /api/secrets/{name}": { value: "overwritten-by-b" },
  };
  const key = `${op.method} ${op.path}`;
  return { url: `${daemon.url}${path}`, method: op.method, ...(key in bodies ? { body: bodies[key] } : {}) };
}

describe("hosted mode: authentication", () => {
  it("declares an access level on every route, and only version and the OpenAPI document are public", () => {
    expect(catalog.length).toBeGreaterThanOrEqual(30);
    for (const op of catalog) expect(["public", "read", "operate", "admin"], `${op.method} ${op.path}`).toContain(op.access);
    expect(catalog.filter((op) => op.access === "public").map((op) => op.path).sort()).toEqual(["/api/openapi.json", "/api/version"]);
  });

  it("answers 401 TAU_E_AUTH_REQUIRED on every non-public route without a token, with a Bearer challenge", async () => {
    let checked = 0;
    for (const op of catalog.filter((o) => o.access !== "public")) {
      const r = requestFor(op);
      const answer = await call<{ error: { code: string } }>(r.url, null, { method: r.method, body: r.body });
      expect(answer.status, `${op.method} ${op.path}`).toBe(401);
      expect(answer.body.error.code).toBe("TAU_E_AUTH_REQUIRED");
      expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="tau"');
      expect(answer.text).not.toContain(A_PIPE);
      checked++;
    }
    expect(checked).toBe(catalog.length - 2);
    expect((await call(`${daemon.url}/api/version`, null)).status).toBe(200);
    // Unknown routes too: nothing about the route table without a token.
    expect((await call(`${daemon.url}/api/nope`, null, { method: "POST" })).status).toBe(401);
  });

  it("refuses alg none, a wrong key, another algorithm, an expired token, a bad header and an unknown tenant", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { tenant: "ta", role: "admin", iat: now, exp: now + 600 };
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    const cases: Array<[string, string, string]> = [
      ["alg none", `Bearer ${unsigned}`, "TAU_E_AUTH_INVALID"],
      ["wrong key", `Bearer ${jwt.sign(claims, "another-secret-of-sufficient-length-xx", { algorithm: "HS256" })}`, "TAU_E_AUTH_INVALID"],
      ["HS512", `Bearer ${jwt.sign(claims, JWT_SECRET, { algorithm: "HS512" })}`, "TAU_E_AUTH_INVALID"],
      ["expired", `Bearer ${jwt.sign({ ...claims, iat: now - 7200, exp: now - 3600 }, JWT_SECRET, { algorithm: "HS256" })}`, "TAU_E_AUTH_EXPIRED"],
      ["no exp", `Bearer ${jwt.sign({ tenant: "ta", role: "admin" }, JWT_SECRET, { algorithm: "HS256" })}`, "TAU_E_AUTH_INVALID"],
      ["not bearer", `Basic dXNlcjpwYXNz`, "TAU_E_AUTH_INVALID"],
      ["unknown tenant", `Bearer ${token("nobody", "admin")}`, "TAU_E_AUTH_INVALID"],
    ];
    for (const [what, header, code] of cases) {
      const answer = await call<{ error: { code: string } }>(`${daemon.url}/api/pipelines`, null, { header });
      expect(answer.status, what).toBe(401);
      expect(answer.body.error.code, what).toBe(code);
      expect(answer.text, what).not.toContain(A_PIPE);
      expect(answer.headers.get("www-authenticate"), what).toContain('error="invalid_token"');
    }
    await expect(openEvents(daemon, { header: `Bearer ${unsigned}` })).rejects.toThrow("status 401");
    await expect(openEvents(daemon, { leaveOpen: true })).rejects.toThrow("status 401");
  });

  it("stops accepting a token once it expired, also after it was accepted (and cached) before", async () => {
    const short = token("ta", "viewer", 1);
    expect((await call(`${daemon.url}/api/pipelines`, short)).status).toBe(200);
    // exp is whole seconds and verification allows 5 s of clock skew.
    await new Promise((r) => setTimeout(r, 7_000));
    const answer = await call<{ error: { code: string } }>(`${daemon.url}/api/pipelines`, short);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("TAU_E_AUTH_EXPIRED");
  }, 20_000);

  it("answers 403 TAU_E_FORBIDDEN when a viewer does operator or admin work, and lets it read", async () => {
    let checked = 0;
    for (const op of catalog.filter((o) => o.access === "operate" || o.access === "admin")) {
      const r = requestFor(op);
      const answer = await call<{ error: { code: string; details: { needed: string } } }>(r.url, A_VIEWER, { method: r.method, body: r.body });
      expect(answer.status, `${op.method} ${op.path}`).toBe(403);
      expect(answer.body.error.code).toBe("TAU_E_FORBIDDEN");
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    const read = await call<RunView>(`${daemon.url}/api/runs/${aRunId}`, A_VIEWER);
    expect(read.status).toBe(200);
    expect(read.body.result).toEqual({ owner: "ta" });
    // An operator is not an admin.
    const tokens = await call<{ error: { code: string } }>(`${daemon.url}/api/tokens`, A_OPERATOR, { method: "POST", body: { role: "viewer", ttl: "1h" } });
    expect(tokens.body.error.code).toBe("TAU_E_FORBIDDEN");
  });
});

describe("hosted mode: tenant scoping", () => {
  it("refuses tenant B every route aimed at tenant A's ids, and never answers A's data", async () => {
    const outcomes: string[] = [];
    for (const op of catalog.filter((o) => o.access !== "public")) {
      const r = requestFor(op);
      const answer = await call<{ error?: { code: string } }>(r.url, B_ADMIN, { method: r.method, body: r.body });
      const label = `${op.method} ${op.path} → ${answer.status} ${answer.body.error?.code ?? ""}`;
      outcomes.push(label);
      // Never A's data: not its pipeline, run, graph run, log line or secret value.
      // (An error may echo the id B itself sent; anything else of A's must not appear.)
      const sent = `${r.url} ${JSON.stringify(r.body ?? null)}`;
      for (const marker of [A_PIPE, aRunId, aGraphRunId, "tenant a was here", "a-secret-value-123", "A_ONLY", '"owner":"ta"']) {
        if (sent.includes(marker)) continue;
        expect(answer.text, `${label} leaks ${marker}`).not.toContain(marker);
      }
      if (op.path.includes("{name}") && !op.path.startsWith("/api/secrets")) {
        expect(answer.status, label).toBe(404);
        expect(answer.body.error?.code, label).toBe("TAU_E_PIPELINE_NOT_FOUND");
      } else if (op.path.includes("{id}")) {
        expect(answer.status, label).toBe(404);
        expect(answer.body.error?.code, label).toMatch(/^TAU_E_(RUN|GRAPH_RUN)_NOT_FOUND$/);
      }
    }
    const expectRefused = (prefix: string, status: number, code: string): void => {
      const found = outcomes.find((o) => o.startsWith(prefix));
      expect(found, prefix).toBe(`${prefix} → ${status} ${code}`);
    };
    expectRefused("POST /api/dag/runs", 404, "TAU_E_PIPELINE_NOT_FOUND");
    expectRefused("POST /api/tenants", 403, "TAU_E_FORBIDDEN");
    expectRefused("POST /api/tokens", 403, "TAU_E_FORBIDDEN");
    expectRefused("GET /api/policy", 403, "TAU_E_FORBIDDEN");
    expectRefused("PUT /api/policy", 403, "TAU_E_FORBIDDEN");
    expectRefused("GET /api/errors", 404, "TAU_E_PIPELINE_NOT_FOUND");
    expectRefused("DELETE /api/secrets/{name}", 404, "TAU_E_SECRET_NOT_STORED");
    // Tenant A's run, pipeline and secret are untouched by B's attempts (B's PUT made B's own secret).
    const aRun = await call<RunView>(`${daemon.url}/api/runs/${aRunId}`, A_OPERATOR);
    expect(aRun.body.status).toBe("succeeded");
    const aSecrets = await call<Array<{ name: string }>>(`${daemon.url}/api/secrets`, A_OPERATOR);
    expect(aSecrets.body.map((s) => s.name)).toEqual(["A_ONLY"]);
    const bTenants = await call<Array<{ id: string }>>(`${daemon.url}/api/tenants`, B_ADMIN);
    expect(bTenants.body.map((t) => t.id)).toEqual(["tb"]);
  }, 60_000);

  it("shows each tenant only its own runs in /api/status", async () => {
    const busy = pipelineSource("busy_a", `  ${busyWait("1500")}\n  return 1;`);
    expect((await call(`${daemon.url}/api/pipelines`, A_OPERATOR, { method: "POST", body: { source: busy, filename: "busy_a.ts" } })).status).toBe(201);
    const queued = await call<RunView>(`${daemon.url}/api/pipelines/busy_a/runs`, A_OPERATOR, { method: "POST", body: {} });
    expect(queued.status).toBe(201);
    const deadline = Date.now() + 10_000;
    let mine = { queued: 0, running: 0 };
    while (Date.now() < deadline && mine.running === 0) {
      mine = (await call<{ runs: typeof mine }>(`${daemon.url}/api/status`, A_VIEWER)).body.runs;
    }
    expect(mine.running).toBe(1);
    const theirs = await call<{ runs: { queued: number; running: number }; pipelines: number }>(`${daemon.url}/api/status`, B_ADMIN);
    expect(theirs.body.runs).toEqual({ queued: 0, running: 0 });
    // Where the daemon lives on its host is for the platform admin only, not for a tenant's admin.
    type HostView = { home: string | null; pid: number | null; executors: Array<{ pid: number | null }> };
    const tenantView = (await call<HostView>(`${daemon.url}/api/status`, B_ADMIN)).body;
    expect(tenantView.home).toBeNull();
    expect(tenantView.pid).toBeNull();
    expect(tenantView.executors.every((e) => e.pid === null)).toBe(true);
    const platformView = (await call<HostView>(`${daemon.url}/api/status`, PLATFORM)).body;
    expect(typeof platformView.home).toBe("string");
    expect(platformView.pid).toBeGreaterThan(0);
    await call(`${daemon.url}/api/runs/${queued.body.id}/cancel`, A_OPERATOR, { method: "POST" });
  }, 30_000);

  it("refuses tenant B's WebSocket subscriptions to A's run and pipeline, and sends B none of A's events", async () => {
    const ws = await openEvents(daemon, { header: `Bearer ${B_ADMIN}` });
    try {
      const byRun = await exchange(ws, { type: "subscribe", runId: aRunId }, (m) => m.length >= 1);
      expect(byRun[0]).toMatchObject({ type: "error", error: { code: "TAU_E_RUN_NOT_FOUND" } });
      const byPipeline = await exchange(ws, { type: "subscribe", pipeline: A_PIPE }, (m) => m.length >= 1);
      expect(byPipeline[0]).toMatchObject({ type: "error", error: { code: "TAU_E_PIPELINE_NOT_FOUND" } });
      const all = await exchange(ws, { type: "subscribe", all: true }, (m) => m.some((x) => x.type === "subscribed"));
      expect(all.filter((m) => m.type === "event")).toEqual([]);
      // A new run of A while B listens to "all": nothing reaches B.
      const seen: unknown[] = [];
      ws.on("message", (data) => seen.push(JSON.parse(data.toString())));
      const run = await call<RunView>(`${daemon.url}/api/pipelines/${A_PIPE}/runs`, A_OPERATOR, { method: "POST", body: { wait: true, waitMs: 30_000 } });
      expect(run.body.status).toBe("succeeded");
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]);
    } finally {
      ws.close();
    }
    // A's own subscription works, with the token as a subprotocol (what a browser can send).
    const own = await openEvents(daemon, { protocols: ["tau", `tau.bearer.${A_VIEWER}`] });
    try {
      expect(own.protocol).toBe("tau");
      const replay = await exchange(own, { type: "subscribe", runId: aRunId }, (m) => m.some((x) => x.type === "subscribed"));
      expect(replay.filter((m) => m.type === "event").length).toBeGreaterThanOrEqual(3);
    } finally {
      own.close();
    }
  }, 60_000);
});

describe("hosted mode with ES256 keys", () => {
  const esHome = tempHome();
  let es: Daemon;
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

  beforeAll(async () => {
    es = await startHosted(esHome.home, { jwtAlg: "ES256", jwtSecret: null, jwtPublicKey: publicPem, jwtPrivateKey: privatePem });
  }, 60_000);
  afterAll(async () => {
    await es?.close();
    esHome.remove();
  });

  it("accepts tokens signed with the private key, issues them, and refuses HS256 tokens keyed with the public key", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { tenant: "admin", role: "admin", iat: now, exp: now + 600 };
    const good = jwt.sign(claims, privatePem, { algorithm: "ES256" });
    expect((await call(`${es.url}/api/pipelines`, good)).status).toBe(200);
    // Algorithm confusion: the public key used as an HMAC secret.
    const confused = jwt.sign(claims, publicPem, { algorithm: "HS256" });
    const refused = await call<{ error: { code: string } }>(`${es.url}/api/pipelines`, confused);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("TAU_E_AUTH_INVALID");
    const issued = await call<{ token: string }>(`${es.url}/api/tokens`, good, { method: "POST", body: { role: "viewer", ttl: "5m" } });
    expect(issued.status).toBe(201);
    expect(jwt.decode(issued.body.token, { complete: true })?.header.alg).toBe("ES256");
    expect((await call(`${es.url}/api/status`, issued.body.token)).status).toBe(200);
  });
});

describe("route access declarations", () => {
  it("refuse to register a route that declares no access level", async () => {
    const app = fastify({ logger: false });
    installAuth(app, { mode: "local", tokens: null, tenantExists: () => true });
    app.get("/api/declared", { config: { access: "read" } }, async () => ({ ok: true }));
    expect(() => app.get("/api/forgotten", async () => ({ leaked: true }))).toThrow(/declares no access level/);
    expect(() => app.post("/api/typo", { config: { access: "root" as never } }, async () => ({}))).toThrow(/declares no access level/);
    await app.close();
  });

  it("refuse hosted mode without a token configuration", () => {
    expect(() => installAuth(fastify({ logger: false }), { mode: "hosted", tokens: null, tenantExists: () => true })).toThrow(/token configuration/);
  });
});
