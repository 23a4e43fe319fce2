import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDaemon, type FakeDaemon } from "./helpers/fake-daemon";
import { assertBuilt, errorDocument, oneDocument, tau, removeTempDirs, tempDir } from "./helpers/tau-cli";

const PIPELINE = `import { pipeline } from "tau";
export default pipeline({ name: "orders_sync" }, async (ctx) => ({ ok: true }));
`;

let daemon: FakeDaemon;
let work: string;
let file: string;
const env = (): Record<string, string> => ({ TAU_HOST: daemon.url });

beforeAll(async () => {
  assertBuilt();
  daemon = await startFakeDaemon();
  work = tempDir("tau-cli-");
  file = join(work, "orders_sync.ts");
  writeFileSync(file, PIPELINE);
  const deployed = await tau(["deploy", "orders_sync.ts"], { env: env(), cwd: work });
  expect(deployed.code, deployed.stdout).toBe(0);
});

afterAll(async () => {
  await daemon?.close();
  removeTempDirs();
});

describe("tau deploy", () => {
  it("sends the file's source and absolute path and prints the DeployResponse", async () => {
    const result = await tau(["deploy", "orders_sync.ts"], { env: env(), cwd: work });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "deploy.schema.json");
    expect(doc.pipeline.name).toBe("orders_sync");
    expect(doc.pipeline.filename).toBe(file);
    expect(doc.changed).toBe(false);
  });

  it("passes --name, --schedule and --no-typecheck to the daemon", async () => {
    const result = await tau(["deploy", file, "--name", "orders_hourly", "--schedule", "0 * * * *", "--no-typecheck"], { env: env() });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "deploy.schema.json");
    expect(doc.pipeline).toMatchObject({ name: "orders_hourly", schedule: "0 * * * *" });
    expect(doc.warnings).toEqual(["type check skipped"]);
  });

  it("prints the daemon's refusal with its code and details and exits 3", async () => {
    const broken = join(work, "broken.ts");
    writeFileSync(broken, "syntax error here");
    const result = await tau(["deploy", broken], { env: env() });
    expect(result.code).toBe(3);
    const error = errorDocument(result, "TAU_E_DEPLOY_SYNTAX");
    expect(error.details.errors[0]).toMatchObject({ file: broken, line: 1 });
  });
});

describe("reading commands", () => {
  it("lists pipelines, the same bytes for the same state", async () => {
    const first = await tau(["list"], { env: env() });
    const second = await tau(["list"], { env: env() });
    expect(first.code).toBe(0);
    const doc = oneDocument(first, "list.schema.json");
    expect(doc.pipelines.map((p: { name: string }) => p.name)).toContain("orders_sync");
    expect(second.stdout).toBe(first.stdout);
  });

  it("inspects a pipeline with its versions", async () => {
    const result = await tau(["inspect", "orders_sync"], { env: env() });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "inspect.schema.json");
    expect(doc.versions[0]).toMatchObject({ version: 1, filename: file });
  });

  it("answers an unknown pipeline with TAU_E_PIPELINE_NOT_FOUND, exit 3", async () => {
    const result = await tau(["inspect", "nope"], { env: env() });
    expect(result.code).toBe(3);
    expect(errorDocument(result, "TAU_E_PIPELINE_NOT_FOUND").details).toEqual({ name: "nope" });
  });

  it("prints a version's source with `code`", async () => {
    const result = await tau(["code", "orders_sync", "--version", "1"], { env: env() });
    expect(result.code).toBe(0);
    expect(oneDocument(result, "code.schema.json").source).toBe(PIPELINE);
    const missing = await tau(["code", "orders_sync", "--version", "9"], { env: env() });
    expect(missing.code).toBe(3);
    errorDocument(missing, "TAU_E_VERSION_NOT_FOUND");
  });

  it("prints the daemon's status", async () => {
    const result = await tau(["status"], { env: env() });
    expect(result.code).toBe(0);
    expect(oneDocument(result, "status.schema.json").mode).toBe("local");
  });

  it("prints both versions and whether they are compatible", async () => {
    const result = await tau(["version"], { env: env() });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "version.schema.json");
    expect(doc.daemon).toMatchObject({ name: "tau", apiVersion: "1" });
    expect(doc.compatible).toBe(true);
    expect(doc.daemonError).toBeNull();
  });
});

describe("tau run", () => {
  it("waits for the run and exits 0 when it succeeded, printing the run with its params", async () => {
    const result = await tau(["run", "orders_sync", "--params", '{"day": "2026-01-31"}'], { env: env() });
    expect(result.code).toBe(0);
    const run = oneDocument(result, "run.schema.json");
    expect(run).toMatchObject({ status: "succeeded", pipeline: "orders_sync", params: { day: "2026-01-31" } });
    expect(run.steps.map((s: { name: string }) => s.name)).toEqual(["extract"]);
  });

  it("prints the pipeline's result exactly as returned while sorting every other key", async () => {
    const result = await tau(["run", "orders_sync"], { env: env() });
    expect(result.stdout).toContain('"result": {\n    "zeta": 1,\n    "alpha": [');
  });

  it("exits 1 when the run failed, with the run and its error location still on stdout", async () => {
    const result = await tau(["run", "orders_sync", "--params", '{"fail": true}'], { env: env() });
    expect(result.code).toBe(1);
    const run = oneDocument(result, "run.schema.json");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", step: "extract", line: 7, column: 13 });
  });

  it("returns the queued run at once with --detach, exit 0", async () => {
    const result = await tau(["run", "orders_sync", "--detach", "--params", '{"delayMs": 200}'], { env: env() });
    expect(result.code).toBe(0);
    expect(oneDocument(result, "run.schema.json").status).toBe("queued");
  });

  it("stops waiting at --timeout, printing the unfinished run and exiting 1", async () => {
    const result = await tau(["run", "orders_sync", "--timeout", "0.3", "--params", '{"delayMs": 1000}'], { env: env() });
    expect(result.code).toBe(1);
    expect(["queued", "running"]).toContain(oneDocument(result, "run.schema.json").status);
    expect(result.stderr).toContain("--follow");
  });

  it("keeps waiting by polling when the daemon answers before the run ends", async () => {
    const impatient = await startFakeDaemon({ maxWaitMs: 50 });
    try {
      writeFileSync(join(work, "p.ts"), PIPELINE);
      expect((await tau(["deploy", "p.ts"], { env: { TAU_HOST: impatient.url }, cwd: work })).code).toBe(0);
      const result = await tau(["run", "orders_sync", "--params", '{"delayMs": 100}'], { env: { TAU_HOST: impatient.url } });
      expect(result.code).toBe(0);
      expect(oneDocument(result, "run.schema.json").status).toBe("succeeded");
      expect(result.stderr).toContain("waiting for it to end");
    } finally {
      await impatient.close();
    }
  });
});

describe("run history", () => {
  it("lists a pipeline's runs, newest first, limited by --last", async () => {
    const result = await tau(["runs", "orders_sync", "--last", "2"], { env: env() });
    expect(result.code).toBe(0);
    const { pipeline, runs } = oneDocument(result, "runs.schema.json");
    expect(pipeline).toBe("orders_sync");
    expect(runs).toHaveLength(2);
    expect(runs[0].id > runs[1].id).toBe(true);
  });

  it("lists failed runs with `errors`", async () => {
    const result = await tau(["errors", "--limit", "5"], { env: env() });
    expect(result.code).toBe(0);
    const failed = oneDocument(result, "errors.schema.json").errors;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r: { status: string }) => r.status === "failed")).toBe(true);
  });

  it("inspects the last run and a run by id", async () => {
    const last = oneDocument(await tau(["inspect", "orders_sync", "--last-run"], { env: env() }), "inspect.schema.json");
    expect(last.pipeline).toBe("orders_sync");
    const byId = await tau(["inspect", "orders_sync", "--run", last.id], { env: env() });
    expect(byId.code).toBe(0);
    expect(oneDocument(byId, "inspect.schema.json").id).toBe(last.id);
  });

  it("refuses a run id that belongs to another pipeline", async () => {
    const other = oneDocument(await tau(["run", "orders_hourly"], { env: env() }), "run.schema.json");
    const result = await tau(["inspect", "orders_sync", "--run", other.id], { env: env() });
    expect(result.code).toBe(3);
    expect(errorDocument(result, "TAU_E_RUN_NOT_FOUND").details).toMatchObject({ actualPipeline: "orders_hourly" });
  });

  it("prints a run's log lines as one document with `logs`", async () => {
    const run = oneDocument(await tau(["run", "orders_sync"], { env: env() }), "run.schema.json");
    const result = await tau(["logs", "orders_sync"], { env: env() });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "logs.schema.json");
    expect(doc).toMatchObject({ pipeline: "orders_sync", runId: run.id, status: "succeeded" });
    expect(doc.logs.map((l: { message: string }) => l.message)).toEqual(["extracted 3 rows"]);
  });
});

describe("answers that are not what tau expects", () => {
  it("turns a 5xx into the daemon's error and exit 4", async () => {
    const result = await tau(["status"], { env: { TAU_HOST: `${daemon.url}/broken` } });
    expect(result.code).toBe(4);
    errorDocument(result, "TAU_E_INTERNAL");
  });

  it("turns a non-JSON answer into TAU_E_DAEMON_RESPONSE_INVALID, exit 4", async () => {
    const result = await tau(["status"], { env: { TAU_HOST: `${daemon.url}/html` } });
    expect(result.code).toBe(4);
    const error = errorDocument(result, "TAU_E_DAEMON_RESPONSE_INVALID");
    expect(error.details).toMatchObject({ status: 200, contentType: "text/html", bodyStart: "<html>not tau</html>" });
  });

  it("turns an error without Tau's shape into TAU_E_DAEMON_RESPONSE_INVALID", async () => {
    const result = await tau(["status"], { env: { TAU_HOST: `${daemon.url}/foreign` } });
    expect(result.code).toBe(4);
    expect(errorDocument(result, "TAU_E_DAEMON_RESPONSE_INVALID").details.status).toBe(404);
  });
});

describe("TAU_TOKEN", () => {
  it("is sent as a bearer token, so a daemon that requires it answers", async () => {
    const guarded = await startFakeDaemon({ token: "s3cret" });
    try {
      const withToken = await tau(["list"], { env: { TAU_HOST: guarded.url, TAU_TOKEN: "s3cret" } });
      expect(withToken.code).toBe(0);
      oneDocument(withToken, "list.schema.json");
      const without = await tau(["list"], { env: { TAU_HOST: guarded.url } });
      expect(without.code).toBe(3);
      errorDocument(without, "TAU_E_REQUEST_INVALID");
    } finally {
      await guarded.close();
    }
  });
});
