import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { validateMeta } from "../../sandbox/meta";
import { ExecutorPool } from "../../sandbox/pool";
import { compile, requireBuild } from "./helpers";

function file(meta: string, extra = ""): string {
  return `import { pipeline } from "tau";\n${extra}\nexport default pipeline(${meta}, async () => 1);\n`;
}

describe("describe() reads a bundle's meta at deploy time and validates it on the host", () => {
  let pool: ExecutorPool;

  beforeAll(async () => {
    requireBuild();
    pool = new ExecutorPool({ size: 1, onStderr: () => undefined });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
  });

  async function describeSource(source: string, filename = "p.ts") {
    const compiled = await compile(source, filename);
    return pool.describe(compiled, LOCAL_POLICY);
  }

  it("returns the declared meta with defaults filled in", async () => {
    const outcome = await describeSource(
      file(`{ name: "orders_sync", description: "Orders", schedule: "0 6 * * *", tags: ["warehouse"], dependsOn: ["stage_customers"], timeoutSec: 120 }`),
    );
    expect(outcome).toEqual({
      ok: true,
      meta: { name: "orders_sync", description: "Orders", schedule: "0 6 * * *", tags: ["warehouse"], dependsOn: ["stage_customers"], timeoutSec: 120, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 },
    });
    expect(await describeSource(file(`{ name: "bare" }`))).toEqual({
      ok: true,
      meta: { name: "bare", description: "", schedule: null, tags: [], dependsOn: [], timeoutSec: null, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 },
    });
  });

  it.each([
    [`{ name: "x", tags: "warehouse" }`, "tags"],
    [`{ name: "x", dependsOn: [1] }`, "dependsOn"],
    [`{ name: "x", timeoutSec: -5 }`, "timeoutSec"],
    [`{ name: "x", timeoutSec: "60" }`, "timeoutSec"],
    [`{ name: "x", description: 42 }`, "description"],
    [`{ name: "x", schedule: 5 }`, "schedule"],
  ])("meta %s is refused with TAU_E_DEPLOY_META_INVALID naming the field", async (meta, field) => {
    const outcome = await describeSource(file(meta));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      // The SDK may refuse some of these itself; either way the code and the field are the same.
      expect(outcome.error.code).toBe("TAU_E_DEPLOY_META_INVALID");
      expect(outcome.error.details.field ?? outcome.error.details.option).toBe(field);
    }
  });

  it("a misspelt meta field is refused naming the field and the one it probably meant", async () => {
    const outcome = await describeSource(file(`{ name: "x", shedule: "0 6 * * *" }`));
    expect(outcome.ok === false && outcome.error).toMatchObject({ code: "TAU_E_DEPLOY_META_INVALID", details: { field: "shedule" } });
    expect(outcome.ok === false && outcome.error.message).toContain('did you mean "schedule"');
  });

  it("an invalid name or cron expression gets its own code", async () => {
    const name = await describeSource(file(`{ name: "Orders Sync" }`));
    expect(name.ok === false && name.error).toMatchObject({ code: "TAU_E_DEPLOY_NAME_INVALID" });
    const cron = await describeSource(file(`{ name: "x", schedule: "every day" }`));
    expect(cron.ok === false && cron.error).toMatchObject({ code: "TAU_E_DEPLOY_CRON_INVALID", details: { field: "schedule" } });
  });

  it("a file without a default-exported pipeline is refused with TAU_E_DEPLOY_NO_PIPELINE", async () => {
    const outcome = await describeSource(`export const x = 1;\n`);
    expect(outcome.ok === false && outcome.error.code).toBe("TAU_E_DEPLOY_NO_PIPELINE");
  });

  it("a top-level throw is reported with the line of the file as written", async () => {
    const outcome = await describeSource(`import { pipeline } from "tau";\n\nconst config = JSON.parse("{oops");\nexport default pipeline({ name: "x" }, async () => config);\n`, "broken.ts");
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", line: 3 });
      expect(outcome.error.message).toContain("JSON");
    }
  });

  it("a top-level busy loop is stopped by the deploy-time limits", async () => {
    const outcome = await describeSource(`import { pipeline } from "tau";\nwhile (true) {}\nexport default pipeline({ name: "x" }, async () => 1);\n`);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(["TAU_E_RUN_CPU_LIMIT", "TAU_E_RUN_TIMEOUT"]).toContain(outcome.error.code);
  });
});

describe("validateMeta", () => {
  it("accepts the smallest meta and refuses a pipeline that depends on itself", () => {
    expect(validateMeta({ name: "a" })).toEqual({ ok: true, meta: { name: "a", description: "", schedule: null, tags: [], dependsOn: [], timeoutSec: null, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 } });
    expect(validateMeta({ name: "a", dependsOn: ["a"] })).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_META_INVALID", details: { field: "dependsOn" } } });
  });

  it("refuses a meta that is not an object and a name of the wrong type", () => {
    expect(validateMeta("orders")).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_META_INVALID", details: { field: "meta" } } });
    expect(validateMeta({ name: 7 })).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_META_INVALID", details: { field: "name" } } });
    expect(validateMeta({ name: "a".repeat(65) })).toMatchObject({ ok: false, error: { code: "TAU_E_DEPLOY_NAME_INVALID" } });
  });
});
