/**
 * The built `tau` against the real daemon, started in this process with `createDaemon({home, port: 0})`
 * (server/index.ts; its executors need `npm run build`). Every output is validated against its schema, so
 * a shape that drifts between server and CLI fails here. Faults the real daemon cannot be made to produce
 * on demand (5xx, foreign answers, dropped sockets) are in protocol.test.ts and follow.test.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDaemon, type Daemon } from "../../server";
import { assertBuilt, errorDocument, oneDocument, removeTempDirs, schemas, tau, tempDir, unsortedKeyPaths, type TauResult } from "./helpers/tau-cli";

const OK = `import { pipeline } from "tau";

export default pipeline({ name: "cli_ok", description: "counts" }, async (ctx) => {
  const n = await ctx.step("count", async (step) => {
    step.rowsOut = 3;
    return 3;
  });
  ctx.log("counted", { n });
  return { zeta: n, alpha: ctx.params.day ?? null };
});
`;

const FAILING = `import { pipeline } from "tau";

export default pipeline({ name: "cli_fail" }, async (ctx) => {
  await ctx.step("transform", async () => {
    if (ctx.params.good !== true) {
      throw new Error("bad row 1");
    }
  });
});
`;

const SLOW = `import { pipeline } from "tau";

export default pipeline({ name: "cli_slow" }, async (ctx) => {
  for (const name of ["a", "b", "c"]) {
    await ctx.step(name, async () => {
      ctx.log("spinning " + name);
      const end = Date.now() + 300;
      while (Date.now() < end) { /* hold the isolate */ }
    });
  }
  return { done: true };
});
`;

let daemon: Daemon;
let dir: string;
const env = (): Record<string, string> => ({ TAU_HOST: daemon.url });
const run = (args: string[]): Promise<TauResult> => tau(args, { env: env(), cwd: dir, timeoutMs: 30_000 });

/** NDJSON from `logs --follow`: each line compact, keys sorted, valid against the follow schema. */
function ndjson(result: TauResult): any[] {
  expect(result.stdout.endsWith("\n")).toBe(true);
  return result.stdout
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      const value = JSON.parse(line);
      expect(line).toBe(JSON.stringify(value));
      expect(unsortedKeyPaths(value)).toEqual([]);
      expect(schemas.validate("logs-follow.schema.json", value), line).toEqual([]);
      return value;
    });
}

beforeAll(async () => {
  assertBuilt();
  daemon = await createDaemon({ home: tempDir("tau-cli-home-"), port: 0 });
  dir = tempDir("tau-cli-src-");
  writeFileSync(join(dir, "cli_ok.ts"), OK);
  writeFileSync(join(dir, "cli_fail.ts"), FAILING);
  writeFileSync(join(dir, "cli_slow.ts"), SLOW);
  writeFileSync(join(dir, "broken.ts"), `import { pipeline } from "tau";\nexport default pipeline({ name: "broken" }, async () => {\n`);
  for (const file of ["cli_ok.ts", "cli_fail.ts", "cli_slow.ts"]) {
    const result = await run(["deploy", file]);
    expect(result.code, result.stdout).toBe(0);
    expect(oneDocument(result, "deploy.schema.json")).toMatchObject({ version: 1, changed: true, pipeline: { filename: join(dir, file) } });
  }
});

afterAll(async () => {
  await daemon?.close();
  removeTempDirs();
});

describe("tau deploy against taud", () => {
  it("stores nothing when the source is unchanged", async () => {
    const result = await run(["deploy", "cli_ok.ts"]);
    expect(result.code).toBe(0);
    expect(oneDocument(result, "deploy.schema.json")).toMatchObject({ version: 1, changed: false });
  });

  it("passes --name, --schedule and --no-typecheck", async () => {
    const result = await run(["deploy", "cli_ok.ts", "--name", "cli_hourly", "--schedule", "0 * * * *", "--no-typecheck"]);
    expect(result.code, result.stdout).toBe(0);
    expect(oneDocument(result, "deploy.schema.json").pipeline).toMatchObject({ name: "cli_hourly", schedule: "0 * * * *" });
  });

  it("refuses another file under a taken name unless --replace is given", async () => {
    const copy = join(tempDir("tau-cli-copy-"), "cli_ok_copy.ts");
    writeFileSync(copy, OK.replace("counts", "counts, copied"));
    const refused = await run(["deploy", copy]);
    expect(refused.code).toBe(3);
    errorDocument(refused, "TAU_E_DEPLOY_NAME_TAKEN");
    const replaced = await run(["deploy", copy, "--replace"]);
    expect(replaced.code, replaced.stdout).toBe(0);
    expect(oneDocument(replaced, "deploy.schema.json")).toMatchObject({ version: 2, changed: true, pipeline: { filename: copy } });
    expect((await run(["deploy", "cli_ok.ts", "--replace"])).code).toBe(0);
  });

  it("prints the daemon's refusal of a file that does not compile, with its line, exit 3", async () => {
    const result = await run(["deploy", "broken.ts"]);
    expect(result.code).toBe(3);
    const error = errorDocument(result, "TAU_E_DEPLOY_SYNTAX");
    expect(error.details.errors[0].line).toBeGreaterThanOrEqual(1);
  });

  it("refuses an invalid cron schedule, exit 3", async () => {
    const result = await run(["deploy", "cli_ok.ts", "--schedule", "every day"]);
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_DEPLOY_CRON_INVALID");
  });
});

describe("tau run against taud", () => {
  it("waits for a run to succeed and exits 0, printing params, steps and the result as returned", async () => {
    const result = await run(["run", "cli_ok", "--params", '{"day": "2026-01-31"}']);
    expect(result.code, result.stdout).toBe(0);
    const view = oneDocument(result, "run.schema.json");
    expect(view).toMatchObject({ status: "succeeded", params: { day: "2026-01-31" }, result: { zeta: 3, alpha: "2026-01-31" } });
    expect(view.steps.map((s: { name: string; rowsOut: number }) => [s.name, s.rowsOut])).toEqual([["count", 3]]);
    expect(result.stdout).toMatch(/"result": \{\n\s+"zeta": 3,\n\s+"alpha": "2026-01-31"/);
  });

  it("exits 1 when the run failed, with the error's line in the file as written", async () => {
    const result = await run(["run", "cli_fail"]);
    expect(result.code).toBe(1);
    const view = oneDocument(result, "run.schema.json");
    expect(view.status).toBe("failed");
    expect(view.error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", message: "bad row 1", step: "transform", line: 6 });
  });

  it("returns at once with --detach", async () => {
    const result = await run(["run", "cli_ok", "--detach"]);
    expect(result.code).toBe(0);
    expect(["queued", "running", "succeeded"]).toContain(oneDocument(result, "run.schema.json").status);
  });

  it("stops waiting at --timeout and exits 1 with the unfinished run", async () => {
    const result = await run(["run", "cli_slow", "--timeout", "0.2"]);
    expect(result.code).toBe(1);
    expect(["queued", "running"]).toContain(oneDocument(result, "run.schema.json").status);
  });

  it("answers an unknown pipeline with TAU_E_PIPELINE_NOT_FOUND, exit 3", async () => {
    const result = await run(["run", "nope"]);
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_PIPELINE_NOT_FOUND");
  });
});

describe("reading commands against taud", () => {
  it("prints each command's answer in its schema", async () => {
    const cases: Array<[string[], string]> = [
      [["list"], "list.schema.json"],
      [["inspect", "cli_ok"], "inspect.schema.json"],
      [["inspect", "cli_ok", "--last-run"], "inspect.schema.json"],
      [["code", "cli_ok", "--version", "1"], "code.schema.json"],
      [["runs", "cli_ok", "--last", "5"], "runs.schema.json"],
      [["errors", "--limit", "5"], "errors.schema.json"],
      [["logs", "cli_ok"], "logs.schema.json"],
      [["status"], "status.schema.json"],
      [["version"], "version.schema.json"],
    ];
    for (const [args, schema] of cases) {
      const result = await run(args);
      expect(result.code, `tau ${args.join(" ")}: ${result.stdout}`).toBe(0);
      oneDocument(result, schema);
    }
  });

  it("prints the same bytes for the same state", async () => {
    const first = await run(["inspect", "cli_fail", "--last-run"]);
    const second = await run(["inspect", "cli_fail", "--last-run"]);
    expect(second.stdout).toBe(first.stdout);
  });

  it("lists pipelines with their last run, and a pipeline's runs newest first", async () => {
    const list = oneDocument(await run(["list"]), "list.schema.json");
    const ok = list.pipelines.find((p: { name: string }) => p.name === "cli_ok");
    expect(ok.lastRun).not.toBeNull();
    const { pipeline, runs } = oneDocument(await run(["runs", "cli_ok", "--last", "2"]), "runs.schema.json");
    expect(pipeline).toBe("cli_ok");
    expect(runs).toHaveLength(2);
    expect(Date.parse(runs[0].queuedAt)).toBeGreaterThanOrEqual(Date.parse(runs[1].queuedAt));
  });

  it("lists the failed run under errors, and its source under code", async () => {
    const { errors } = oneDocument(await run(["errors"]), "errors.schema.json");
    expect(errors.find((r: { pipeline: string }) => r.pipeline === "cli_fail").error).toMatchObject({ code: "TAU_E_PIPELINE_ERROR", line: 6 });
    expect(oneDocument(await run(["code", "cli_fail"]), "code.schema.json").source).toBe(FAILING);
    const missing = await run(["code", "cli_fail", "--version", "9"]);
    expect(missing.code).toBe(3);
    errorDocument(missing, "TAU_E_VERSION_NOT_FOUND");
  });

  it("inspects a run by id and refuses a run of another pipeline", async () => {
    const last = oneDocument(await run(["inspect", "cli_ok", "--last-run"]), "inspect.schema.json");
    expect(oneDocument(await run(["inspect", "cli_ok", "--run", last.id]), "inspect.schema.json").id).toBe(last.id);
    const other = await run(["inspect", "cli_fail", "--run", last.id]);
    expect(other.code).toBe(3);
    expect(errorDocument(other, "TAU_E_RUN_NOT_FOUND").details).toMatchObject({ actualPipeline: "cli_ok" });
  });

  it("prints a run's log lines", async () => {
    const doc = oneDocument(await run(["logs", "cli_ok"]), "logs.schema.json");
    expect(doc.pipeline).toBe("cli_ok");
    expect(doc.logs.map((l: { message: string }) => l.message)).toContain("counted");
  });

  it("reports matching versions", async () => {
    const doc = oneDocument(await run(["version"]), "version.schema.json");
    expect(doc.compatible).toBe(true);
    expect(doc.daemon.version).toBe(doc.cli.version);
  });

  it("answers a pipeline that never ran with TAU_E_NO_RUNS", async () => {
    writeFileSync(join(dir, "idle.ts"), OK.replace('"cli_ok"', '"cli_idle"'));
    expect((await run(["deploy", "idle.ts"])).code).toBe(0);
    const result = await run(["logs", "cli_idle"]);
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_NO_RUNS");
  });
});

describe("tau logs --follow against taud", () => {
  it("streams a running run's events as NDJSON in seq order until it finishes, exit 0", async () => {
    const started = oneDocument(await run(["run", "cli_slow", "--detach"]), "run.schema.json");
    const result = await run(["logs", "cli_slow", "--run", started.id, "--follow"]);
    expect(result.code, result.stdout).toBe(0);
    const events = ndjson(result);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.every((e) => e.runId === started.id)).toBe(true);
    expect(events[0].kind).toBe("run.queued");
    expect(events.at(-1).kind).toBe("run.finished");
    expect(events.filter((e) => e.kind === "log").map((e) => e.message)).toEqual(["spinning a", "spinning b", "spinning c"]);
  });

  it("replays a finished run that failed and exits 1", async () => {
    expect((await run(["run", "cli_fail"])).code).toBe(1);
    const result = await run(["logs", "cli_fail", "--follow"]);
    expect(result.code).toBe(1);
    expect(ndjson(result).at(-1).kind).toBe("run.finished");
  });

  it("answers an unknown run id with TAU_E_RUN_NOT_FOUND, exit 3", async () => {
    const result = await run(["logs", "cli_ok", "--run", "no-such-run", "--follow"]);
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_RUN_NOT_FOUND");
  });
});
