import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeView, DeployResponse, PipelineDetailView } from "../../server/contract";
import type { Daemon } from "../../server";
import { pipelineSource, startDaemon, tempHome, THREE_STEPS } from "./helpers/daemon";

let daemon: Daemon;
const home = tempHome();

beforeAll(async () => {
  daemon = await startDaemon(home.home);
});
afterAll(async () => {
  await daemon?.close();
  home.remove();
});

async function deploy(body: Record<string, unknown>): Promise<{ status: number; body: DeployResponse & { error?: { code: string; details: Record<string, unknown> } } }> {
  const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: body });
  return { status: res.statusCode, body: res.json() };
}

async function detail(name: string): Promise<PipelineDetailView> {
  return (await daemon.app.inject({ method: "GET", url: `/api/pipelines/${name}` })).json();
}

describe("deploy", () => {
  const v1 = pipelineSource("orders", THREE_STEPS, 'description: "Orders", tags: ["warehouse"]');
  const v2 = pipelineSource("orders", THREE_STEPS.replace("rowsOut = 3", "rowsOut = 4"), 'description: "Orders", tags: ["warehouse"]');

  it("stores a new pipeline as version 1 and answers 201 with its view", async () => {
    const res = await deploy({ source: v1, filename: "pipelines/orders.ts" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ version: 1, changed: true, warnings: [] });
    expect(res.body.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.pipeline).toMatchObject({
      name: "orders",
      description: "Orders",
      tags: ["warehouse"],
      schedule: null,
      enabled: true,
      currentVersion: 1,
      filename: "pipelines/orders.ts",
      lastRun: null,
    });
  });

  it("stores nothing when the same file is deployed again", async () => {
    const res = await deploy({ source: v1, filename: "pipelines/orders.ts" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, changed: false });
    expect((await detail("orders")).versions.map((v) => v.version)).toEqual([1]);
  });

  it("stores a changed file as a new immutable version and keeps the old one's code", async () => {
    const res = await deploy({ source: v2, filename: "pipelines/orders.ts" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ version: 2, changed: true });
    const view = await detail("orders");
    expect(view.currentVersion).toBe(2);
    expect(view.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(view.versions[1]!.sourceBytes).toBe(Buffer.byteLength(v1));

    const old: CodeView = (await daemon.app.inject({ method: "GET", url: "/api/pipelines/orders/code?version=1" })).json();
    expect(old).toEqual({ name: "orders", version: 1, hash: view.versions[1]!.hash, filename: "pipelines/orders.ts", source: v1 });
    const current: CodeView = (await daemon.app.inject({ method: "GET", url: "/api/pipelines/orders/code" })).json();
    expect(current.source).toBe(v2);
  });

  it("treats a new schedule for the same file as a change", async () => {
    const res = await deploy({ source: v2, filename: "pipelines/orders.ts", schedule: "0 6 * * *" });
    expect(res.body).toMatchObject({ version: 3, changed: true });
    expect(res.body.pipeline.schedule).toBe("0 6 * * *");
  });

  it("leaves the current version untouched when a deploy is rejected", async () => {
    const before = await detail("orders");
    const rejected = [
      { source: "export default pipeline(", filename: "pipelines/orders.ts" },
      { source: v2, filename: "pipelines/orders.ts", schedule: "every morning" },
      { source: v2, filename: "pipelines/orders.ts", name: "Not A Name" },
      { source: pipelineSource("orders", "  return 1;", 'schedule: "61 * * * *"'), filename: "pipelines/orders.ts" },
      { source: "export const x = 1;\n", filename: "pipelines/orders.ts" },
    ];
    const codes = [];
    for (const body of rejected) {
      const res = await deploy(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      codes.push(res.body.error!.code);
    }
    expect(codes).toEqual([
      "TAU_E_DEPLOY_SYNTAX",
      "TAU_E_DEPLOY_CRON_INVALID",
      "TAU_E_DEPLOY_NAME_INVALID",
      "TAU_E_DEPLOY_CRON_INVALID",
      "TAU_E_DEPLOY_NO_PIPELINE",
    ]);
    expect(await detail("orders")).toEqual(before);
  });

  it("refuses another file under a taken name unless replace is given", async () => {
    const other = pipelineSource("orders", "  return { other: true };");
    const clash = await deploy({ source: other, filename: "elsewhere/orders.ts" });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({
      code: "TAU_E_DEPLOY_NAME_TAKEN",
      details: { name: "orders", deployedFilename: "pipelines/orders.ts", filename: "elsewhere/orders.ts" },
    });
    expect((await detail("orders")).currentVersion).toBe(3);

    const replaced = await deploy({ source: other, filename: "elsewhere/orders.ts", replace: true });
    expect(replaced.status).toBe(201);
    expect(replaced.body).toMatchObject({ version: 4, changed: true });
    expect(replaced.body.pipeline.filename).toBe("elsewhere/orders.ts");
  });

  it("takes the name override over the file's meta", async () => {
    const res = await deploy({ source: v1, filename: "pipelines/orders.ts", name: "orders_copy" });
    expect(res.status).toBe(201);
    expect(res.body.pipeline.name).toBe("orders_copy");
  });

  it("warns about dependencies that are not deployed", async () => {
    const res = await deploy({ source: pipelineSource("downstream", "  return 1;", 'dependsOn: ["orders", "missing_one"]'), filename: "downstream.ts" });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toHaveLength(1);
    expect(res.body.warnings[0]).toContain("missing_one");
  });

  it("answers 404 with TAU_E_VERSION_NOT_FOUND for code of a version that does not exist", async () => {
    const res = await daemon.app.inject({ method: "GET", url: "/api/pipelines/orders/code?version=99" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: "TAU_E_VERSION_NOT_FOUND", details: { name: "orders", version: 99 } });
  });
});
