/**
 * The dashboard against a real hosted taud (`TAU_MODE=hosted`, HS256 secret, TAU_SECRET_KEY) in Debian's
 * Chromium: the static files need no token and every other /api path does; signing in as tenant A's
 * operator shows A's pipelines and a run's log lines live (token as a bearer header on HTTP and as the
 * `tau.bearer.<token>` subprotocol on the WebSocket); tenant B sees none of A's pipelines, runs or events; a
 * viewer's Run and Cancel are disabled and a forced one shows TAU_E_FORBIDDEN inline; an expired, forged or
 * pasted-expired token returns to the sign-in panel with the daemon's message. Tokens come from
 * `taud token` and `tau tokens issue`; the pipelines are deployed with `tau deploy` and TAU_TOKEN.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import jwt from "jsonwebtoken";
import type { Page, WebSocket as PwWebSocket } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import type { RunView } from "../../server/contract";
import { authError, authRequired, decodeClaims, isAuthRequired, operateBlockedReason, watchExpiry } from "../../web/src/auth";
import { builtOrThrow, cleanup, pipelineFile as writePipeline, ROOT, startDaemon, tau, tempHome, type Daemon } from "../e2e/harness";
import { launchBrowser, pipelineFile, SHOTS, spin, startProxy, type TestBrowser } from "./helpers";

const JWT_SECRET = "web-hosted-jwt-secret-0123456789abcdefghijkl";
const SECRET_KEY = "fedcba9876543210".repeat(4);
const KEYS = { TAU_MODE: "hosted", TAU_JWT_SECRET: JWT_SECRET, TAU_SECRET_KEY: SECRET_KEY };
const TENANT_A = "webhost-a";
const TENANT_B = "webhost-b";

/** 20 lines, one every 150 ms: a run of about 3 s. */
const TICKER = pipelineFile(
  "hosted_ticker",
  'description: "Logs a line every 150 ms", tags: ["hosted"]',
  `  await ctx.step("tick", async (step) => {
    for (let i = 0; i < 20; i++) {
      ${spin(150)}
      step.log("tick " + String(i).padStart(2, "0"), { i });
    }
    step.rowsOut = 20;
  });
  return { lines: 20 };`,
);
const B_ONLY = pipelineFile("hosted_b_only", 'description: "Tenant B\'s own pipeline"', `  ctx.log("b was here");\n  return { ok: true };`);

let daemon: Daemon;
let browser: TestBrowser;
let dir: string;
const tokens = { platform: "", aOperator: "", aViewer: "", bOperator: "" };
/** Every console message of every page: no token may ever be printed there. */
const consoleText: string[] = [];

async function issue(tenant: string, role: string): Promise<string> {
  const r = await tau(daemon, ["tokens", "issue", "--tenant", tenant, "--role", role, "--ttl", "1h"], { TAU_TOKEN: tokens.platform });
  expect(r.code, r.stdout).toBe(0);
  return r.json.token as string;
}

/** A token signed here with the daemon's secret (or another one): the shapes `tau tokens issue` refuses to make. */
function signed(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  return jwt.sign(claims, secret, { algorithm: "HS256", noTimestamp: true });
}

async function api<T = any>(path: string, token: string | null, method = "GET"): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${daemon.url}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text) as T, headers: res.headers };
}

async function waitForRun(id: string, token: string): Promise<RunView> {
  const end = Date.now() + 30_000;
  for (;;) {
    const { body: run } = await api<RunView>(`/api/runs/${id}`, token);
    if (["succeeded", "failed", "cancelled", "skipped"].includes(run.status)) return run;
    if (Date.now() > end) throw new Error(`run ${id} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newPage(base = daemon.url, hash = "#/"): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (err) => {
    throw err;
  });
  page.on("console", (m) => consoleText.push(m.text()));
  await page.goto(`${base}/${hash}`);
  return page;
}

/** Pastes a token into the sign-in panel (the page reloads with it). */
async function signIn(page: Page, token: string): Promise<void> {
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Access token").fill(token);
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Sign in" }).click()]);
}

/** Text frames the page's WebSockets received, parsed. */
function framesOf(page: Page): Array<Record<string, any>> {
  const frames: Array<Record<string, any>> = [];
  page.on("websocket", (ws: PwWebSocket) => ws.on("framereceived", (f) => typeof f.payload === "string" && frames.push(JSON.parse(f.payload))));
  return frames;
}

const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const logRow = (page: Page, n: number) => page.locator("[data-testid=log] [data-seq]").nth(n - 1);
/** The header's "tenant · role" (its visible part; screen readers get a sentence). */
const identity = (page: Page): Promise<string> => page.getByTestId("identity").locator("[aria-hidden=true]").innerText();
const storedToken = (page: Page): Promise<string | null> => page.evaluate(() => sessionStorage.getItem("tau.token"));

beforeAll(async () => {
  builtOrThrow();
  dir = tempHome("tau-web-hosted-");
  daemon = await startDaemon({ env: { ...KEYS, TAU_LOG_LEVEL: "info" }, args: ["--executors", "2"] });
  const minted = spawnSync(process.execPath, [join(ROOT, "dist/server/bin.js"), "token", "--tenant", "admin", "--role", "admin", "--ttl", "1h"], {
    env: { ...process.env, ...KEYS },
    encoding: "utf8",
  });
  expect(minted.status, minted.stdout).toBe(0);
  tokens.platform = JSON.parse(minted.stdout).token;
  for (const tenant of [TENANT_A, TENANT_B]) expect((await tau(daemon, ["tenants", "create", tenant], { TAU_TOKEN: tokens.platform })).code).toBe(0);
  tokens.aOperator = await issue(TENANT_A, "operator");
  tokens.aViewer = await issue(TENANT_A, "viewer");
  tokens.bOperator = await issue(TENANT_B, "operator");
  const a = await tau(daemon, ["deploy", writePipeline(dir, "hosted_ticker", TICKER)], { TAU_TOKEN: tokens.aOperator });
  expect(a.code, a.stdout).toBe(0);
  const b = await tau(daemon, ["deploy", writePipeline(dir, "hosted_b_only", B_ONLY)], { TAU_TOKEN: tokens.bOperator });
  expect(b.code, b.stdout).toBe(0);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
  if (dir) cleanup(dir);
});

describe("the dashboard against a hosted taud", () => {
  it("serves the dashboard's files without a token, and every other /api path only with one", async () => {
    for (const path of ["/", "/index.html", "/app.js", "/app.css", "/pipelines/bookmarked"]) {
      const r = await api(path, null);
      expect(r.status, path).toBe(200);
      expect(r.headers.get("content-security-policy"), path).toContain("default-src 'self'");
    }
    for (const path of ["/api/pipelines", "/api/status", "/api/history", "/api/no-such-route", "/api/pipelines/x/y/z"]) {
      const r = await api(path, null);
      expect(r.status, path).toBe(401);
      expect(r.body.error.code, path).toBe("TAU_E_AUTH_REQUIRED");
      expect(r.headers.get("www-authenticate"), path).toBe('Bearer realm="tau"');
    }
    // With a token, an unknown path is what it always was.
    const unknown = await api("/api/no-such-route", tokens.aViewer);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("TAU_E_ROUTE_NOT_FOUND");
    // The public API routes stay public (no tenant data in them).
    expect((await api("/api/version", null)).status).toBe(200);
  });

  it("signs in as tenant A's operator and shows a run's log lines as they arrive", async () => {
    const proxy = await startProxy(daemon.url);
    const page = await newPage(proxy.url);
    try {
      const authorizations: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/api/")) authorizations.push(r.headers().authorization ?? "none");
      });
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByTestId("connection").filter({ hasText: "Not signed in" }).waitFor();
      expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
      await shot(page, "hosted-sign-in");

      authorizations.length = 0;
      await signIn(page, tokens.aOperator);
      await page.locator("tr[data-pipeline=hosted_ticker]").waitFor();
      await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
      expect(await identity(page)).toBe(`${TENANT_A} · operator`);
      expect(await page.locator("tr[data-pipeline]").count()).toBe(1);
      // The token: in this tab's sessionStorage only, on every request and on the WebSocket, never in the URL.
      expect(await storedToken(page)).toBe(tokens.aOperator);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      expect(page.url()).not.toContain(tokens.aOperator);
      expect(authorizations.length).toBeGreaterThan(0);
      expect(new Set(authorizations)).toEqual(new Set([`Bearer ${tokens.aOperator}`]));
      expect(proxy.upgradeRequests().at(-1)).toMatch(new RegExp(`^sec-websocket-protocol: tau, tau\\.bearer\\.${tokens.aOperator.replace(/\./g, "\\.")}$`, "im"));
      await shot(page, "hosted-pipelines");

      await page.locator("tr[data-pipeline=hosted_ticker]").click();
      await page.getByRole("button", { name: "Run now" }).click();
      await page.waitForURL(/#\/runs\//);
      const runId = decodeURIComponent(new URL(page.url()).hash.replace("#/runs/", ""));
      // The third line is on the page while the run still runs: live, not read after the fact.
      await logRow(page, 3).waitFor({ timeout: 20_000 });
      const { body: during } = await api<RunView>(`/api/runs/${runId}`, tokens.aOperator);
      expect(during.status).toBe("running");
      await logRow(page, 20).waitFor({ timeout: 20_000 });
      const texts = await page.$$eval("[data-testid=log] [data-seq]", (rows) => rows.map((r) => r.querySelector(".log-msg")?.firstChild?.textContent ?? ""));
      expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => `tick ${String(i).padStart(2, "0")}`));
      await page.locator("h1 .badge.status-succeeded").waitFor({ timeout: 10_000 });
      expect((await waitForRun(runId, tokens.aOperator)).trigger).toBe("manual");
      await shot(page, "hosted-run");
    } finally {
      await page.close();
      await proxy.close();
    }
  });

  it("shows tenant B none of tenant A's pipelines, runs or events", async () => {
    const pageA = await newPage();
    const framesA = framesOf(pageA);
    await signIn(pageA, tokens.aOperator);
    const pageB = await newPage();
    const framesB = framesOf(pageB);
    await signIn(pageB, tokens.bOperator);
    try {
      for (const page of [pageA, pageB]) await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
      await pageB.locator("tr[data-pipeline=hosted_b_only]").waitFor();
      expect(await pageB.locator("tr[data-pipeline]").count()).toBe(1);
      expect(await identity(pageB)).toBe(`${TENANT_B} · operator`);
      // Both pages follow every event of their tenant; tenant A runs while both watch.
      const started = await tau(daemon, ["run", "hosted_ticker"], { TAU_TOKEN: tokens.aOperator });
      expect(started.json.status).toBe("succeeded");
      const runId = started.json.id as string;
      await pageA.locator("tr[data-pipeline=hosted_ticker] .badge.status-succeeded").waitFor();
      await expect.poll(() => framesA.filter((f) => f.type === "event" && f.event.runId === runId).map((f) => f.event.kind)).toContain("run.finished");
      expect(framesB.filter((f) => f.type === "event")).toEqual([]);
      expect(JSON.stringify(framesB)).not.toContain("hosted_ticker");

      // Typed or bookmarked addresses of A's pipeline and run: not found, exactly as for ids that do not exist.
      await pageB.goto(`${daemon.url}/#/pipelines/hosted_ticker`);
      await pageB.getByRole("alert").filter({ hasText: "TAU_E_PIPELINE_NOT_FOUND" }).waitFor();
      await pageB.goto(`${daemon.url}/#/runs/${runId}`);
      await pageB.getByRole("alert").filter({ hasText: "TAU_E_RUN_NOT_FOUND" }).waitFor();
      await pageB.goto(`${daemon.url}/#/errors`);
      await pageB.getByRole("heading", { name: "Errors" }).waitFor();
      await pageB.goto(`${daemon.url}/#/dag`);
      await pageB.locator("[data-node]").first().waitFor();
      expect(await pageB.locator("[data-node]").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-node")))).toEqual(["hosted_b_only"]);
      expect(framesB.filter((f) => f.type === "event")).toEqual([]);
      expect(await pageB.getByRole("heading", { name: "Sign in" }).count()).toBe(0);
    } finally {
      await pageA.close();
      await pageB.close();
    }
  });

  it("disables Run and Cancel for a viewer, and shows a forced one's TAU_E_FORBIDDEN inline without signing out", async () => {
    const page = await newPage(daemon.url, "#/pipelines/hosted_ticker");
    try {
      await signIn(page, tokens.aViewer);
      const runNow = page.getByRole("button", { name: "Run now" });
      await runNow.waitFor();
      expect(await runNow.isDisabled()).toBe(true);
      const note = page.getByTestId("role-note");
      expect(await note.innerText()).toContain("viewer role");
      // The explanation is the button's accessible description.
      expect(await runNow.getAttribute("aria-describedby")).toBe(await note.getAttribute("id"));
      expect(await identity(page)).toBe(`${TENANT_A} · viewer`);
      await shot(page, "hosted-viewer");

      // Forced: the button enabled by hand and pressed; the daemon refuses, the page says why and stays signed in.
      await runNow.evaluate((b) => b.removeAttribute("disabled"));
      await runNow.click();
      const refused = page.getByRole("alert").filter({ hasText: "TAU_E_FORBIDDEN" });
      await refused.waitFor();
      expect(await refused.innerText()).toContain("This needs the operator role; the token has viewer.");
      expect(await refused.locator(".hint").innerText()).toContain("ask an admin for a token with that role");
      await shot(page, "hosted-viewer-forbidden");
      expect(await page.getByRole("heading", { name: "Sign in" }).count()).toBe(0);
      expect(await storedToken(page)).toBe(tokens.aViewer);
      // A POST from the page's own script, as a curious user would try it: the same answer.
      const forced = await page.evaluate(async () => {
        const res = await fetch("/api/pipelines/hosted_ticker/runs", {
          method: "POST",
          headers: { authorization: `Bearer ${sessionStorage.getItem("tau.token")}`, "content-type": "application/json" },
          body: "{}",
        });
        return { status: res.status, body: await res.json() };
      });
      expect(forced).toMatchObject({ status: 403, body: { error: { code: "TAU_E_FORBIDDEN", details: { needed: "operator" } } } });

      // A run the operator started: the viewer follows it, but cannot cancel it.
      const started = await tau(daemon, ["run", "hosted_ticker", "--detach"], { TAU_TOKEN: tokens.aOperator });
      const runId = started.json.id as string;
      await page.goto(`${daemon.url}/#/runs/${runId}`);
      const cancel = page.getByRole("button", { name: "Cancel run" });
      await cancel.waitFor();
      expect(await cancel.isDisabled()).toBe(true);
      await logRow(page, 2).waitFor({ timeout: 20_000 });
      await cancel.evaluate((b) => b.removeAttribute("disabled"));
      await cancel.click();
      const cancelRefused = page.getByRole("alert").filter({ hasText: "Could not cancel" });
      await cancelRefused.waitFor();
      expect(await cancelRefused.innerText()).toContain("TAU_E_FORBIDDEN");
      expect((await waitForRun(runId, tokens.aOperator)).status).toBe("succeeded");
      await logRow(page, 20).waitFor({ timeout: 10_000 });
      expect(await page.getByRole("heading", { name: "Sign in" }).count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it("returns to the sign-in panel with the daemon's message when the token expires while the page is open", async () => {
    const page = await newPage();
    try {
      // Valid for 3 s (the daemon allows 5 s of clock skew past that); then a quiet page must notice by itself.
      const exp = Math.floor(Date.now() / 1000) + 3;
      const shortLived = signed({ tenant: TENANT_A, role: "operator", exp });
      // The daemon ends a WebSocket when its token stops being accepted (exp + 5 s of skew), whoever holds it.
      const socket = new WebSocket(`${daemon.url.replace("http", "ws")}/api/events`, ["tau", `tau.bearer.${shortLived}`]);
      const socketClosed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now())));
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      expect(socket.protocol).toBe("tau");
      socket.send(JSON.stringify({ type: "subscribe", all: true }));
      await signIn(page, shortLived);
      await page.locator("tr[data-pipeline=hosted_ticker]").waitFor();
      expect(await identity(page)).toBe(`${TENANT_A} · operator`);
      const panel = page.getByRole("heading", { name: "Sign in" });
      await panel.waitFor({ timeout: 25_000 });
      const error = page.getByTestId("signin-error");
      expect(await error.innerText()).toContain("TAU_E_AUTH_EXPIRED");
      expect(await error.innerText()).toContain("The bearer token has expired.");
      expect(await page.getByText("Your token has expired.", { exact: false }).count()).toBe(1);
      await page.getByTestId("connection").filter({ hasText: "Not signed in" }).waitFor();
      // The refused token is forgotten, and the header no longer offers to sign it out.
      expect(await storedToken(page)).toBeNull();
      expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
      expect(await page.getByTestId("identity").count()).toBe(0);
      await shot(page, "hosted-expired");
      const closedAt = await socketClosed;
      expect(closedAt).toBeGreaterThanOrEqual(exp * 1000 + 5_000);
      expect(closedAt).toBeLessThan(exp * 1000 + 8_000);

      // Signing in again with a good token picks up where it was.
      await signIn(page, tokens.aOperator);
      await page.locator("tr[data-pipeline=hosted_ticker]").waitFor();
    } finally {
      await page.close();
    }
  }, 60_000);

  it("refuses a pasted token that is expired, forged or for an unknown tenant, each with the daemon's message", async () => {
    const page = await newPage();
    try {
      const cases: Array<{ token: string; code: string; message: string }> = [
        { token: signed({ tenant: TENANT_A, role: "operator", exp: Math.floor(Date.now() / 1000) - 3600 }), code: "TAU_E_AUTH_EXPIRED", message: "The bearer token has expired." },
        {
          token: signed({ tenant: TENANT_A, role: "admin", exp: Math.floor(Date.now() / 1000) + 3600 }, "another-secret-of-at-least-32-bytes-xxxxxxxx"),
          code: "TAU_E_AUTH_INVALID",
          message: "invalid signature",
        },
        { token: signed({ tenant: "webhost-nobody", role: "admin", exp: Math.floor(Date.now() / 1000) + 3600 }), code: "TAU_E_AUTH_INVALID", message: "does not exist on this instance" },
        { token: "not-a-token", code: "TAU_E_AUTH_INVALID", message: "The token was refused" },
      ];
      for (const c of cases) {
        await signIn(page, c.token);
        const error = page.getByTestId("signin-error");
        await error.waitFor();
        expect(await error.innerText(), c.token).toContain(c.code);
        expect(await error.innerText(), c.token).toContain(c.message);
        expect(await storedToken(page)).toBeNull();
      }
      // "Bearer " pasted along with the token is fine; Sign out forgets the token and asks again.
      await signIn(page, `Bearer ${tokens.aViewer}`);
      await page.locator("tr[data-pipeline=hosted_ticker]").waitFor();
      await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Sign out" }).click()]);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      expect(await page.getByTestId("signin-error").count()).toBe(0);
      expect(await storedToken(page)).toBeNull();
    } finally {
      await page.close();
    }
  });

  it("never writes a token to the daemon's log or the page's console", () => {
    const log = daemon.stderr();
    expect(log.length).toBeGreaterThan(0);
    for (const token of Object.values(tokens)) {
      expect(log).not.toContain(token);
      expect(consoleText.join("\n")).not.toContain(token);
    }
    expect(log).not.toContain(JWT_SECRET);
  });
});

describe("the dashboard's token helpers (Node)", () => {
  it("reads tenant, role, subject and expiry from a token's payload, and nothing from what is not a JWT", () => {
    const token = signed({ tenant: "acme", role: "viewer", sub: "zoë@example.com", exp: 2_000_000_000 });
    expect(decodeClaims(token)).toEqual({ tenant: "acme", role: "viewer", subject: "zoë@example.com", expiresAt: 2_000_000_000_000 });
    for (const bad of ["", "tok.en-123", "a.b", "a.!!!.c", `x.${Buffer.from("[1]").toString("base64url")}.y`, `x.${Buffer.from("not json").toString("base64url")}.y`]) {
      expect(decodeClaims(bad), bad).toBeNull();
    }
    expect(decodeClaims(`x.${Buffer.from('{"role":7}').toString("base64url")}.y`)).toEqual({ tenant: null, role: null, subject: null, expiresAt: null });
  });

  it("blocks running only for a viewer's token; an unreadable one is left to the daemon", () => {
    expect(operateBlockedReason({ tenant: "acme", role: "viewer", subject: null, expiresAt: null })).toContain("viewer role in tenant acme");
    for (const role of ["operator", "admin", null]) expect(operateBlockedReason({ tenant: "acme", role, subject: null, expiresAt: null })).toBeNull();
    expect(operateBlockedReason(null)).toBeNull();
  });

  it("asks the daemon just after the token expires, again while it still accepts it, and stops once it refused", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      let probes = 0;
      const stop = watchExpiry(async () => void (probes += 1), 1_000_000 + 2_000);
      await vi.advanceTimersByTimeAsync(7_999); // expiry + the daemon's 5 s of skew + 1 s
      expect(probes).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(probes).toBe(1);
      await vi.advanceTimersByTimeAsync(15_000); // still accepted (the daemon's clock is behind): ask again
      expect(probes).toBe(2);
      stop();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(probes).toBe(2);

      // Once a 401 came back (the HTTP client calls authRequired), nothing more is asked.
      const refused = watchExpiry(async () => {
        probes += 1;
        authRequired({ code: "TAU_E_AUTH_EXPIRED", message: "The bearer token has expired.", hint: "" });
      }, 1_000_000);
      await vi.advanceTimersByTimeAsync(6_000);
      expect(probes).toBe(3);
      expect(isAuthRequired()).toBe(true);
      expect(authError()?.code).toBe("TAU_E_AUTH_EXPIRED");
      await vi.advanceTimersByTimeAsync(60_000);
      expect(probes).toBe(3);
      refused();
    } finally {
      vi.useRealTimers();
    }
  });
});
