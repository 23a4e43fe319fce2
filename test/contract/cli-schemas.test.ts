import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderCliSchemas, Schemas, type RunEvent, type RunView } from "../../server/contract";
import type { Daemon } from "../../server";
import { SchemaSet } from "../cli/helpers/json-schema";
import { pipelineSource, startDaemon, tempHome } from "../server/helpers/daemon";

const DIR = join(__dirname, "../../cli/schemas");
const schemas = new SchemaSet(DIR);

/** Keywords the generated files may use: what test/cli/helpers/json-schema.ts checks, plus annotations. */
const ALLOWED = new Set([
  ...["$schema", "$id", "$defs", "title", "description"],
  ...["$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf"],
  ...["minimum", "minLength", "pattern", "format"],
]);

/** Keywords used in `schema` that are not in ALLOWED (property names under `properties`/`$defs` are not keywords). */
function unsupportedKeywords(schema: unknown, path: string): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => unsupportedKeywords(s, `${path}[${i}]`));
  if (schema === null || typeof schema !== "object") return [];
  return Object.entries(schema).flatMap(([key, value]) => {
    if (!ALLOWED.has(key)) return [`${path}.${key}`];
    if (key === "properties" || key === "$defs") {
      return Object.entries(value as object).flatMap(([name, sub]) => unsupportedKeywords(sub, `${path}.${key}.${name}`));
    }
    if (key === "enum" || key === "required" || key === "const") return [];
    return unsupportedKeywords(value, `${path}.${key}`);
  });
}

describe("cli/schemas and the contract", () => {
  it("are the files scripts/cli-schemas.ts generates, byte for byte (regenerate with npx tsx scripts/cli-schemas.ts)", () => {
    const expected = renderCliSchemas();
    const committed = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();
    expect(committed).toEqual(Object.keys(expected).sort());
    for (const file of committed) expect(readFileSync(join(DIR, file), "utf8"), file).toBe(expected[file]);
  });

  it("use only keywords the CLI tests' validator checks", () => {
    const files = renderCliSchemas();
    const found = Object.entries(files).flatMap(([file, text]) => unsupportedKeywords(JSON.parse(text), file));
    expect(found).toEqual([]);
  });

  it("define each shared view once, in common.schema.json, as the API defines it", () => {
    const common = JSON.parse(renderCliSchemas()["common.schema.json"]) as { $defs: Record<string, { required?: string[] }> };
    expect(Object.keys(common.$defs)).toEqual(expect.arrayContaining(["RunView", "RunSummary", "PipelineView", "ErrorResponse", "ScheduleView", "PolicyView"]));
    expect(common.$defs.RunView.required).toEqual(Schemas.RunView.required);
    expect(common.$defs.PipelineView.required).toEqual(Schemas.PipelineView.required);
    const run = JSON.parse(renderCliSchemas()["run.schema.json"]) as Record<string, unknown>;
    expect(run.$ref).toBe("common.schema.json#/$defs/RunView");
  });
});

describe("the API's real answers", () => {
  let daemon: Daemon;
  const home = tempHome();
  const get = async (url: string): Promise<any> => {
    const res = await daemon.app.inject({ method: "GET", url });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const valid = (file: string, value: unknown): void => expect(schemas.validate(file, value), JSON.stringify(value)).toEqual([]);

  beforeAll(async () => {
    daemon = await startDaemon(home.home, { secretKey: randomBytes(32).toString("base64") });
    const sources = [
      [pipelineSource("schemas_ok", `  await ctx.step("extract", async (s) => { s.rowsOut = 3; ctx.log.info("three rows"); });\n  return { n: 3 };`, "timeoutSec: 30.5"), "ok.ts"],
      [pipelineSource("schemas_fails", `  await ctx.step("load", async () => { throw new Error("no table"); });`, `dependsOn: ["schemas_ok"]`), "fails.ts"],
    ];
    for (const [source, filename] of sources) {
      const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source, filename } });
      expect(res.statusCode, res.body).toBe(201);
      valid("deploy.schema.json", res.json());
    }
  });
  afterAll(async () => {
    await daemon?.close();
    home.remove();
  });

  it("validate against the CLI's schemas of the commands that print them", async () => {
    const ok = await daemon.app.inject({ method: "POST", url: "/api/pipelines/schemas_ok/runs", payload: { wait: true } });
    const okRun = ok.json() as RunView;
    expect(okRun.status).toBe("succeeded");
    valid("run.schema.json", okRun);
    const failed = (await daemon.app.inject({ method: "POST", url: "/api/pipelines/schemas_fails/runs", payload: { wait: true } })).json() as RunView;
    expect(failed.status).toBe("failed");
    expect(failed.error?.line).toBeGreaterThan(0);
    valid("run.schema.json", failed);

    valid("list.schema.json", { pipelines: await get("/api/pipelines") });
    valid("inspect.schema.json", await get("/api/pipelines/schemas_ok"));
    valid("inspect.schema.json", await get("/api/pipelines/schemas_fails/last-run"));
    valid("runs.schema.json", { pipeline: "schemas_ok", runs: await get("/api/pipelines/schemas_ok/runs") });
    valid("errors.schema.json", { errors: await get("/api/errors") });
    valid("code.schema.json", await get("/api/pipelines/schemas_ok/code"));
    valid("status.schema.json", await get("/api/status"));
    const version = await get("/api/version");
    valid("version.schema.json", { cli: version, host: daemon.url, daemon: version, daemonError: null, compatible: true });
    valid("dag.schema.json", await get("/api/dag"));
    valid("dag.schema.json", await get("/api/dag?format=mermaid"));
    valid("schedule.schema.json", await get("/api/pipelines/schemas_ok/schedule"));
    valid("depends.schema.json", await get("/api/pipelines/schemas_fails/depends"));
    valid("policy.schema.json", await get("/api/policy"));
    const written = await daemon.app.inject({ method: "PUT", url: "/api/secrets/SCHEMAS_KEY", payload: { value: "v" } });
    expect(written.statusCode, written.body).toBe(200);
    valid("secrets.schema.json", written.json());
    valid("secrets.schema.json", { secrets: await get("/api/secrets") });
    valid("secrets.schema.json", (await daemon.app.inject({ method: "DELETE", url: "/api/secrets/SCHEMAS_KEY" })).json());
    valid("tenants.schema.json", { tenants: await get("/api/tenants") });
    const page = (await get(`/api/runs/${okRun.id}/events`)) as { events: RunEvent[] };
    expect(page.events.length).toBeGreaterThan(3);
    for (const event of page.events) valid("logs-follow.schema.json", event);
  });

  it("include a pipeline whose timeoutSec is fractional (the schema said integer: the serialiser threw, the views answered 500)", async () => {
    const pipeline = await get("/api/pipelines/schemas_ok");
    expect(pipeline.timeoutSec).toBe(30.5);
  });

  it("reject a document that breaks the shared schema, whichever side prints it", () => {
    expect(schemas.validate("secrets.schema.json", { name: "K", deleted: false }).join()).toContain("oneOf failed");
    expect(schemas.validate("tokens.schema.json", { token: "", tenant: "t", role: "viewer", expiresAt: "2026-01-01T00:00:00.000Z" }).join()).toContain("shorter than 1");
  });
});
