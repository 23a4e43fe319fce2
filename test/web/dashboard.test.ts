/**
 * The dashboard in a real browser (Debian's Chromium) against a real taud: live log tail, reconnects,
 * failures with their line, the DAG, keyboard use and accessible names. Each view is saved as a
 * screenshot under test-output/web/.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineView, RunView } from "../../server/contract";
import { builtOrThrow, cleanup, startDaemon, type Daemon } from "../e2e/harness";
import { deploy, getJson, launchBrowser, pipelineFile, SHOTS, spin, startProxy, startRun, waitForRun, type CuttingProxy, type TestBrowser } from "./helpers";

let daemon: Daemon;
let browser: TestBrowser;

/** 30 lines, one every 100 ms: a run of about 3 s. */
const SLOW = pipelineFile(
  "web_slow",
  'description: "Logs a line every 100 ms for 3 s", tags: ["test", "slow"]',
  `  await ctx.step("tick", async (step) => {
    for (let i = 0; i < 30; i++) {
      ${spin(100)}
      step.log("tick " + String(i).padStart(2, "0"), { i });
    }
    step.rowsOut = 30;
  });
  return { lines: 30 };`,
);

const BOOM = pipelineFile(
  "web_boom",
  'description: "Fails in its second step", tags: ["test"]',
  `  const rows = await ctx.step("extract", async (step) => {
    step.rowsOut = 3;
    return [1, 2, 3];
  });
  await ctx.step("transform", async (step) => {
    step.rowsIn = rows.length;
    ctx.log("transforming", { rows: rows.length });
    throw new Error("row 2 has no id");
  });`,
);
const BOOM_LINE = BOOM.split("\n").findIndex((l) => l.includes("throw new Error")) + 1;

const CHAIN = [
  pipelineFile(
    "web_extract",
    'description: "Raw orders from the shop", tags: ["warehouse"], schedule: "0 6 * * *"',
    `  const rows = await ctx.step("extract", async (step) => { ${spin(30)} step.rowsOut = 1200; return 1200; });
  await ctx.step("load", async (step) => { ${spin(20)} step.rowsIn = rows; step.rowsOut = rows; });
  return { rows };`,
  ),
  pipelineFile(
    "web_customers",
    'description: "Customer dimension", tags: ["warehouse"], schedule: "30 5 * * *"',
    `  await ctx.step("extract", async (step) => { ${spin(15)} step.rowsOut = 80; });
  return { rows: 80 };`,
  ),
  pipelineFile(
    "web_orders",
    'description: "Orders joined with customers", tags: ["warehouse", "analytics"], dependsOn: ["web_extract", "web_customers"]',
    `  await ctx.step("join", async (step) => { ${spin(25)} step.rowsIn = 1280; step.rowsOut = 1150; });
  return { rows: 1150 };`,
  ),
  pipelineFile(
    "web_revenue",
    'description: "Revenue per day", tags: ["analytics"], dependsOn: ["web_orders"]',
    `  await ctx.step("summarise", async (step) => { ${spin(10)} step.rowsIn = 1150; step.rowsOut = 31; });
  return { days: 31 };`,
  ),
  pipelineFile(
    "web_ltv",
    'description: "Customer lifetime value", tags: ["analytics"], dependsOn: ["web_orders"]',
    `  await ctx.step("score", async (step) => { ${spin(10)} step.rowsIn = 1150; step.rowsOut = 80; });
  return { customers: 80 };`,
  ),
];

beforeAll(async () => {
  builtOrThrow();
  daemon = await startDaemon({ args: ["--executors", "2", "--log-level", "warn"] });
  for (const source of [SLOW, BOOM, ...CHAIN]) {
    const name = /name: "([^"]+)"/.exec(source)![1];
    await deploy(daemon.url, `${name}.ts`, source);
  }
  // History for the sparklines and charts.
  for (let i = 0; i < 4; i++) for (const name of ["web_extract", "web_customers", "web_orders", "web_revenue", "web_ltv"]) await startRun(daemon.url, name, true);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  if (daemon) cleanup(daemon.home);
});

async function openPage(base: string, hash: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (err) => {
    throw err;
  });
  await page.goto(`${base}/${hash}`);
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
  return page;
}

/** The log rows in the DOM, in document order (all of them while the list is short). */
async function logRows(page: Page): Promise<Array<{ seq: number; text: string }>> {
  return page.$$eval("[data-testid=log] [data-seq]", (rows) =>
    rows.map((r) => ({ seq: Number(r.getAttribute("data-seq")), text: r.querySelector(".log-msg")?.firstChild?.textContent ?? "" })),
  );
}

/** The n-th (1-based) log row in the DOM: waiting for it waits until at least n lines are shown. */
const logRow = (page: Page, n: number) => page.locator("[data-testid=log] [data-seq]").nth(n - 1);

const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe("the dashboard in Chromium", () => {
  it("shows a running pipeline's log lines in order while it runs", async () => {
    const run = await startRun(daemon.url, "web_slow");
    const page = await openPage(daemon.url, `#/runs/${run.id}`);
    // Poll the DOM while the run goes on; remember when each line first appeared.
    const firstSeen = new Map<string, number>();
    const seenOrder: string[] = [];
    const deadline = Date.now() + 30_000;
    while (firstSeen.size < 30 && Date.now() < deadline) {
      for (const row of await logRows(page)) {
        if (!firstSeen.has(row.text)) {
          firstSeen.set(row.text, Date.now());
          seenOrder.push(row.text);
        }
      }
      if (firstSeen.size === 10) await shot(page, "run-live");
      await page.waitForTimeout(50);
    }
    const expected = Array.from({ length: 30 }, (_, i) => `tick ${String(i).padStart(2, "0")}`);
    expect(seenOrder).toEqual(expected);
    const finished = await waitForRun(daemon.url, run.id);
    expect(finished.status).toBe("succeeded");
    // Streamed as they happened: the first lines were on the page well before the run ended.
    expect(firstSeen.get("tick 00")!).toBeLessThan(Date.parse(finished.finishedAt!) - 1_000);
    const rows = await logRows(page);
    expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
    await page.getByText("succeeded").first().waitFor();
    await page.locator(".gantt-row").first().waitFor();
    await shot(page, "run-succeeded");
    await page.close();
  });

  it("loses and repeats no line when the server side drops the WebSocket mid-run", async () => {
    const proxy: CuttingProxy = await startProxy(daemon.url);
    try {
      const run = await startRun(daemon.url, "web_slow");
      const page = await openPage(proxy.url, `#/runs/${run.id}`);
      await logRow(page, 5).waitFor({ timeout: 20_000 });
      // Cut, and keep the page out for 600 ms: about six lines are logged meanwhile and must be replayed.
      expect(proxy.cutWebSockets(600)).toBe(1);
      const during = (await logRows(page)).length;
      await page.getByTestId("connection").filter({ hasText: "Reconnecting" }).waitFor();
      await logRow(page, during + 5).waitFor({ timeout: 20_000 });
      expect(proxy.cutWebSockets()).toBe(1);
      await waitForRun(daemon.url, run.id);
      await logRow(page, 30).waitFor({ timeout: 20_000 });
      await page.waitForTimeout(300);
      const rows = await logRows(page);
      expect(rows.map((r) => r.text)).toEqual(Array.from({ length: 30 }, (_, i) => `tick ${String(i).padStart(2, "0")}`));
      expect(new Set(rows.map((r) => r.seq)).size).toBe(30);
      expect(proxy.webSocketConnections()).toBeGreaterThanOrEqual(3);
      await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
      await page.close();
    } finally {
      await proxy.close();
    }
  });

  it("shows a failed run's code, hint and step, and marks the failing line in its source", async () => {
    const run = await startRun(daemon.url, "web_boom", true);
    expect(run.status).toBe("failed");
    const page = await openPage(daemon.url, `#/runs/${run.id}`);
    const error = page.getByTestId("run-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("TAU_E_PIPELINE_ERROR");
    expect(await error.textContent()).toContain("row 2 has no id");
    expect(await error.textContent()).toContain("transform");
    expect(await page.getByTestId("error-line").textContent()).toBe(String(BOOM_LINE));
    const marked = page.locator(".error-line");
    await marked.waitFor();
    expect(await marked.getAttribute("data-line")).toBe(String(BOOM_LINE));
    expect(await marked.textContent()).toContain('throw new Error("row 2 has no id")');
    expect(await page.locator(".source .src-line").count()).toBe(BOOM.split("\n").length);
    await shot(page, "run-failed");
    await page.close();
  });

  it("draws one DAG node per pipeline, coloured by last status, and opens a pipeline from its node", async () => {
    const pipelines = await getJson<PipelineView[]>(`${daemon.url}/api/pipelines`);
    const page = await openPage(daemon.url, "#/dag");
    await page.locator("[data-node]").first().waitFor();
    const names = await page.$$eval("[data-node]", (nodes) => nodes.map((n) => n.getAttribute("data-node")).sort());
    expect(names).toEqual(pipelines.map((p) => p.name).sort());
    expect(await page.locator('[data-node="web_boom"]').getAttribute("class")).toContain("status-failed");
    expect(await page.locator('[data-node="web_orders"]').getAttribute("class")).toContain("status-succeeded");
    // web_extract and web_customers can run together; web_orders after both; then revenue and ltv together.
    expect(await page.locator(".band").count()).toBeGreaterThanOrEqual(3);
    const edges = await page.locator(".edge").count();
    expect(edges).toBe(pipelines.reduce((n, p) => n + p.dependsOn.length, 0));
    await shot(page, "dag");
    await page.locator('[data-node="web_orders"]').focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/pipelines\/web_orders$/);
    await page.getByRole("heading", { level: 1, name: "web_orders" }).waitFor();
    await page.close();
  });

  it("can be used from the keyboard: tab to a pipeline row, Enter opens it", async () => {
    const page = await openPage(daemon.url, "#/");
    await page.locator("tr[data-pipeline]").first().waitFor();
    let focused: string | undefined;
    for (let i = 0; i < 30 && focused === undefined; i++) {
      await page.keyboard.press("Tab");
      const row = page.locator("tr[data-pipeline]:focus");
      focused = (await row.count()) > 0 ? ((await row.getAttribute("data-pipeline")) ?? undefined) : undefined;
    }
    expect(focused).toBe("web_boom"); // the first row, by name
    await page.keyboard.press("ArrowDown"); // arrows do not move between rows; Tab does
    await page.keyboard.press("Tab");
    expect(await page.locator(":focus").getAttribute("data-pipeline")).toBe("web_customers");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/pipelines\/web_customers$/);
    await page.getByRole("heading", { level: 1, name: "web_customers" }).waitFor();
    await page.keyboard.press("Tab");
    // After navigation focus starts in <main>, so the next stop is inside the new view.
    expect(await page.locator("main :focus").count()).toBe(1);
    await page.close();
  });

  it("names every control and landmark for assistive technology on every view", async () => {
    const runs = await getJson<Array<{ id: string }>>(`${daemon.url}/api/pipelines/web_orders/runs?last=1`);
    const views = ["#/", "#/pipelines/web_orders", `#/runs/${runs[0].id}`, "#/dag", "#/errors", "#/status"];
    const page = await openPage(daemon.url, "#/");
    const cdp = await page.context().newCDPSession(page);
    for (const view of views) {
      await page.goto(`${daemon.url}/${view}`);
      await page.locator("main h1").first().waitFor();
      await page.waitForLoadState("networkidle");
      const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as {
        nodes: Array<{ ignored: boolean; role?: { value: string }; name?: { value: string } }>;
      };
      const live = nodes.filter((n) => !n.ignored);
      const roles = new Set(live.map((n) => n.role?.value));
      for (const landmark of ["banner", "navigation", "main"]) expect(roles, `${view} has a ${landmark}`).toContain(landmark);
      const controls = live.filter((n) => ["button", "link", "textbox", "searchbox", "combobox", "checkbox", "row"].includes(n.role?.value ?? ""));
      expect(controls.length).toBeGreaterThan(3);
      const unnamed = controls.filter((n) => n.role?.value !== "row" && !(n.name?.value ?? "").trim());
      expect(unnamed.map((n) => n.role?.value), `unnamed controls on ${view}`).toEqual([]);
    }
    await page.close();
  });

  it("lists pipelines with schedule, last status, duration and a sparkline, filtered by search and status", async () => {
    const page = await openPage(daemon.url, "#/");
    await page.locator("tr[data-pipeline]").first().waitFor();
    await page.locator('tr[data-pipeline="web_extract"] svg.sparkline').waitFor();
    const extract = page.locator('tr[data-pipeline="web_extract"]');
    expect(await extract.textContent()).toContain("0 6 * * *");
    expect(await extract.locator(".badge").textContent()).toBe("succeeded");
    expect(await extract.locator("svg.sparkline rect").count()).toBe(4);
    await shot(page, "pipelines");
    await page.getByLabel("Search").fill("analytics");
    await expect.poll(() => page.locator("tr[data-pipeline]").count()).toBe(3);
    await page.getByLabel("Search").fill("");
    await page.getByLabel("Last status").selectOption("failed");
    await expect.poll(() => page.$$eval("tr[data-pipeline]", (rows) => rows.map((r) => r.getAttribute("data-pipeline")))).toEqual(["web_boom"]);
    await page.close();
  });

  it("shows a pipeline's run history, versions, dependencies and highlighted source", async () => {
    const page = await openPage(daemon.url, "#/pipelines/web_orders");
    await page.locator("figure.chart svg a").first().waitFor();
    expect(await page.locator("figure.chart svg a").count()).toBe(4);
    await page.locator(".source .hljs-keyword").first().waitFor();
    expect(await page.locator(".source .hljs-keyword").count()).toBeGreaterThan(3);
    await expect.poll(() => page.locator(".deps").textContent()).toContain("web_extract");
    await expect.poll(() => page.locator(".deps").textContent()).toContain("web_revenue");
    await shot(page, "pipeline");
    await page.getByRole("button", { name: "Run now" }).click();
    await page.waitForURL(/#\/runs\/.+/);
    await page.locator(".badge.status-succeeded").first().waitFor({ timeout: 20_000 });
    await page.close();
  });

  it("answers unknown runs, pipelines and routes with the daemon's code and hint", async () => {
    const page = await openPage(daemon.url, "#/runs/run_nope");
    await page.getByRole("alert").filter({ hasText: "TAU_E_RUN_NOT_FOUND" }).waitFor();
    expect(await page.locator(".error-box .hint").count()).toBe(1);
    await page.goto(`${daemon.url}/#/pipelines/nope`);
    await page.getByRole("alert").filter({ hasText: "TAU_E_PIPELINE_NOT_FOUND" }).waitFor();
    await page.goto(`${daemon.url}/#/no/such/view`);
    await page.getByRole("heading", { name: "Not found" }).waitFor();
    await shot(page, "not-found");
    await page.close();
  });

  it("asks for a token when the daemon answers 401, then sends it on every request and on the WebSocket", async () => {
    const proxy = await startProxy(daemon.url);
    const page = await browser.context.newPage();
    try {
      // A hosted instance's answer without a token (this local daemon needs none, so the test plays it).
      let refuse = true;
      await page.route("**/api/pipelines", (route) =>
        refuse
          ? route.fulfill({
              status: 401,
              contentType: "application/json",
              body: JSON.stringify({ error: { code: "TAU_E_AUTH_REQUIRED", message: "This Tau instance needs a bearer token.", hint: "Set TAU_TOKEN.", details: {} } }),
            })
          : route.fallback(),
      );
      const authorizations: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/api/")) authorizations.push(r.headers().authorization ?? "none");
      });
      await page.goto(`${proxy.url}/#/`);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await shot(page, "sign-in");
      refuse = false;
      await page.getByLabel("Access token").fill("tok.en-123");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator("tr[data-pipeline]").first().waitFor();
      await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
      expect(authorizations.at(-1)).toBe("Bearer tok.en-123");
      expect(proxy.upgradeRequests().at(-1)).toMatch(/^sec-websocket-protocol: tau, tau\.bearer\.tok\.en-123$/im);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.locator("tr[data-pipeline]").first().waitFor();
      expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    } finally {
      await page.close();
      await proxy.close();
    }
  });

  it("cancels a running run from its page", async () => {
    const run = await startRun(daemon.url, "web_slow");
    const page = await openPage(daemon.url, `#/runs/${run.id}`);
    await logRow(page, 3).waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: "Cancel run" }).click();
    const ended = await waitForRun(daemon.url, run.id);
    expect(ended.status).toBe("cancelled");
    await page.locator("h1 .badge.status-cancelled").waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    await page.close();
  });

  it("shows errors and the daemon's status, and updates the queue live", async () => {
    const page = await openPage(daemon.url, "#/errors");
    await page.locator("table.list tbody tr").first().waitFor();
    expect(await page.locator("table.list").textContent()).toContain("TAU_E_PIPELINE_ERROR");
    await shot(page, "errors");
    await page.goto(`${daemon.url}/#/status`);
    await page.getByRole("heading", { name: "Executors" }).waitFor();
    expect(await page.locator("table.list tbody tr").count()).toBe(2);
    await shot(page, "status");
    const run = await startRun(daemon.url, "web_slow");
    await expect.poll(() => page.getByTestId("running").textContent(), { timeout: 10_000 }).toBe("1");
    await waitForRun(daemon.url, run.id);
    await expect.poll(() => page.getByTestId("running").textContent(), { timeout: 10_000 }).toBe("0");
    await page.close();
  });
});

describe("a run with 10,000 log lines", () => {
  it("keeps the DOM small, follows the tail, and pauses following when scrolled up", async () => {
    await deploy(
      daemon.url,
      "web_flood.ts",
      pipelineFile("web_flood", 'description: "10,000 log lines"', `  for (let i = 0; i < 10000; i++) ctx.log("flood " + i);\n  return 1;`),
    );
    const run = await startRun(daemon.url, "web_flood", true);
    expect(run.status).toBe("succeeded");
    const started = Date.now();
    const page = await openPage(daemon.url, `#/runs/${run.id}`);
    await page.getByText("10,000 lines").waitFor({ timeout: 20_000 });
    const tookMs = Date.now() - started;
    // Only the window is rendered, and it shows the tail.
    const rendered = await page.locator("[data-testid=log] [data-seq]").count();
    expect(rendered).toBeLessThan(100);
    await expect.poll(async () => (await logRows(page)).some((r) => r.text === "flood 9999")).toBe(true);
    // Scrolling up pauses following; "Follow new lines" resumes it at the bottom.
    await page.locator("[data-testid=log]").evaluate((el) => (el.scrollTop = 1000));
    await page.getByRole("button", { name: "Follow new lines" }).waitFor();
    expect(await page.getByText("paused (scrolled up)").count()).toBe(1);
    expect((await logRows(page)).some((r) => r.text === "flood 60")).toBe(true);
    await shot(page, "run-10k-paused");
    await page.getByRole("button", { name: "Follow new lines" }).click();
    await expect.poll(async () => (await logRows(page)).some((r) => r.text === "flood 9999")).toBe(true);
    // Filters: by text (and step), by level.
    await page.getByLabel("Filter").fill("flood 999");
    await page.getByText("11 of 10,000 lines").waitFor();
    expect((await logRows(page)).map((r) => r.text)).toEqual(["flood 999", ...Array.from({ length: 10 }, (_, i) => `flood 999${i}`)]);
    await page.getByLabel("Filter").fill("");
    await page.getByLabel("Level").selectOption("warn");
    await page.getByText("0 of 10,000 lines").waitFor();
    await page.getByLabel("Level").selectOption("debug");
    await page.getByText("10,000 lines · following").waitFor();
    console.log(`10,000 lines: on the page ${tookMs} ms after navigating to the run (page load included); ${rendered} rows in the DOM`);
    await page.close();
  });

  it("follows a run that writes 10,000 lines while the page is open, missing and repeating none", async () => {
    await deploy(
      daemon.url,
      "web_flood_live.ts",
      pipelineFile("web_flood_live", 'description: "10,000 lines over about 2 s"', `  for (let i = 0; i < 10000; i++) {
    if (i % 50 === 0) ${spin(10)}
    ctx.log("live " + i);
  }
  return 1;`),
    );
    const page = await browser.context.newPage();
    // The longest gap between animation frames while the lines pour in: how responsive the page stayed.
    await page.addInitScript(() => {
      const w = window as unknown as { maxFrameGap: number };
      w.maxFrameGap = 0;
      let last = performance.now();
      const tick = (now: number): void => {
        w.maxFrameGap = Math.max(w.maxFrameGap, now - last);
        last = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const run = await startRun(daemon.url, "web_flood_live");
    await page.goto(`${daemon.url}/#/runs/${run.id}`);
    await page.locator("h1 .badge.status-running").waitFor({ timeout: 10_000 });
    await page.getByText("10,000 lines").waitFor({ timeout: 30_000 });
    expect((await waitForRun(daemon.url, run.id)).status).toBe("succeeded");
    await page.waitForTimeout(500);
    expect(await page.getByText("10,000 lines").count()).toBe(1);
    await expect.poll(async () => (await logRows(page)).at(-1)?.text).toBe("live 9999");
    const rows = await logRows(page);
    expect(rows.map((r) => r.text)).toEqual(rows.map((_, i) => `live ${10000 - rows.length + i}`));
    const gap = await page.evaluate(() => (window as unknown as { maxFrameGap: number }).maxFrameGap);
    console.log(`10,000 live lines: longest gap between frames ${Math.round(gap)} ms (page load included); ${rows.length} rows in the DOM`);
    await page.close();
  });
});
