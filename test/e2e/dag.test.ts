/**
 * The DAG end to end with the real binaries: `tau depends`, `tau dag` (JSON, Mermaid, dot), `tau dag run`
 * with a failing upstream (exit 1, downstream skipped), `--from`, and a cycle refused (exit 3).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemas } from "../cli/helpers/tau-cli";
import { builtOrThrow, cleanup, pipelineFile, startDaemon, tau, tempHome, type Daemon } from "./harness";

let daemon: Daemon;
const dir = tempHome("tau-e2e-dag-");

const source = (name: string, body: string, meta = ""): string =>
  `import { pipeline } from "tau";\nexport default pipeline({ name: "${name}"${meta} }, async (ctx) => {\n${body}\n});\n`;

beforeAll(async () => {
  builtOrThrow();
  daemon = await startDaemon();
  for (const [name, body, meta] of [
    ["e2e_extract", "  return 1;", ""],
    ["e2e_load", "  return 2;", ""],
    ["e2e_report", "  return 3;", ""],
    ["e2e_flaky", '  throw new Error("source down");', ""],
  ] as const) {
    const res = await tau(daemon, ["deploy", pipelineFile(dir, name, source(name, body, meta))]);
    expect(res.code, res.stdout).toBe(0);
  }
});
afterAll(async () => {
  await daemon?.stop();
  cleanup(daemon?.home ?? "");
  cleanup(dir);
});

function valid(file: string, doc: unknown): void {
  expect(schemas.validate(file, doc), JSON.stringify(doc)).toEqual([]);
}

describe("the DAG with a real daemon", () => {
  it("sets and shows dependencies with tau depends", async () => {
    const load = await tau(daemon, ["depends", "e2e_load", "--on", "e2e_extract"]);
    expect(load.code).toBe(0);
    valid("depends.schema.json", load.json);
    expect(load.json).toMatchObject({ pipeline: "e2e_load", dependsOn: ["e2e_extract"], source: "cli" });
    expect((await tau(daemon, ["depends", "e2e_report", "--on", "e2e_load", "--on", "e2e_flaky"])).code).toBe(0);
    const shown = await tau(daemon, ["depends", "e2e_extract"]);
    valid("depends.schema.json", shown.json);
    expect(shown.json).toMatchObject({ dependsOn: [], dependents: ["e2e_load"] });
  });

  it("refuses a cycle with its path, exit 3", async () => {
    const res = await tau(daemon, ["depends", "e2e_extract", "--on", "e2e_report"]);
    expect(res.code).toBe(3);
    expect(res.json.error).toMatchObject({ code: "TAU_E_DAG_CYCLE", details: { cycle: ["e2e_extract", "e2e_report", "e2e_load", "e2e_extract"] } });
  });

  it("prints the graph as JSON, Mermaid and dot", async () => {
    const json = await tau(daemon, ["dag"]);
    expect(json.code).toBe(0);
    valid("dag.schema.json", json.json);
    expect(json.json.groups).toEqual([["e2e_extract", "e2e_flaky"], ["e2e_load"], ["e2e_report"]]);
    const mermaid = await tau(daemon, ["dag", "--format", "mermaid"]);
    valid("dag.schema.json", mermaid.json);
    expect(mermaid.json.text).toContain("flowchart LR");
    const dot = await tau(daemon, ["dag", "--format", "dot"]);
    expect(dot.json.text).toContain('"e2e_load" -> "e2e_report";');
    expect((await tau(daemon, ["dag", "--format", "png"])).code).toBe(2);
  });

  it("runs the graph: exit 1 when an upstream failed, its downstream skipped and named", async () => {
    const res = await tau(daemon, ["dag", "run"]);
    expect(res.code).toBe(1);
    valid("dag.schema.json", res.json);
    const status = Object.fromEntries(res.json.runs.map((r: any) => [r.pipeline, r.status]));
    expect(status).toEqual({ e2e_extract: "succeeded", e2e_flaky: "failed", e2e_load: "succeeded", e2e_report: "skipped" });
    const report = res.json.runs.find((r: any) => r.pipeline === "e2e_report");
    expect(report.error).toMatchObject({ code: "TAU_E_RUN_SKIPPED_UPSTREAM_FAILED", details: { upstream: "e2e_flaky" } });
    const run = await tau(daemon, ["inspect", "e2e_report", "--last-run"]);
    expect(run.json).toMatchObject({ status: "skipped", trigger: "dag", graphRunId: res.json.id });
  });

  it("runs part of the graph with --from; a dependency outside it that last failed still skips its dependent", async () => {
    const res = await tau(daemon, ["dag", "run", "--from", "e2e_extract"]);
    valid("dag.schema.json", res.json);
    // e2e_report depends on e2e_flaky too, which is outside the run and last failed: skipped.
    expect(res.json.runs.map((r: any) => [r.pipeline, r.status])).toEqual([
      ["e2e_extract", "succeeded"],
      ["e2e_load", "succeeded"],
      ["e2e_report", "skipped"],
    ]);
    expect(res.code).toBe(1);
    const ok = await tau(daemon, ["dag", "run", "--from", "e2e_load", "--timeout", "0"]);
    expect(ok.json.status).toBe("running");
    const detached = await tau(daemon, ["dag", "run", "--from", "e2e_extract", "--detach"]);
    expect(detached.code).toBe(0);
    expect(detached.json).toMatchObject({ status: "running", root: "e2e_extract" });
  });
});
