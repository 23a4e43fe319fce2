import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// cli/output.ts directly: cli/index.ts pulls in clipanion, whose ESM build vitest cannot load.
import { formatDocument, formatLine } from "../../cli/output";
import { assertBuilt, ROOT, schemas, tau } from "./helpers/tau-cli";

const SCHEMA_DIR = join(ROOT, "cli", "schemas");

const RUN = {
  id: "r1",
  pipeline: "p",
  version: 1,
  status: "succeeded",
  trigger: "manual",
  params: {},
  attempt: 1,
  maxAttempts: 1,
  retryOf: null,
  retriedBy: null,
  notBefore: null,
  graphRunId: null,
  queuedAt: "2026-01-31T06:00:00.000Z",
  startedAt: "2026-01-31T06:00:00.010Z",
  finishedAt: "2026-01-31T06:00:01.000Z",
  durationMs: 990,
  steps: [],
  result: { b: 1, a: 2 },
  error: null,
  logs: [],
};

describe("the output schemas", () => {
  it("exist for every command, plus the error document and one line of logs --follow", async () => {
    assertBuilt();
    // The command list as the built CLI reports it in its usage error.
    const commands = JSON.parse((await tau([])).stdout).error.details.commands as string[];
    expect(commands.length).toBeGreaterThanOrEqual(11);
    const files = readdirSync(SCHEMA_DIR).sort();
    const expected = commands.map((c) => `${c}.schema.json`);
    expect(files).toEqual(expect.arrayContaining([...expected, "error.schema.json", "logs-follow.schema.json", "common.schema.json"]));
    expect(files.filter((f) => !f.endsWith(".schema.json"))).toEqual([]);
  });

  it("resolve every $ref and accept a well-formed run", () => {
    for (const file of readdirSync(SCHEMA_DIR)) schemas.load(file);
    expect(schemas.validate("run.schema.json", RUN)).toEqual([]);
  });

  it("reject a run with a wrong status, a local time or a missing field", () => {
    const { logs: _logs, ...noLogs } = RUN;
    expect(schemas.validate("run.schema.json", { ...RUN, status: "done" }).join()).toContain("$.status");
    expect(schemas.validate("run.schema.json", { ...RUN, queuedAt: "2026-01-31 06:00:00" }).join()).toContain("ISO-8601 UTC");
    expect(schemas.validate("run.schema.json", noLogs).join()).toContain("missing required property logs");
  });

  it("reject an error document with extra fields or a code outside the TAU_E_ namespace", () => {
    const error = { code: "TAU_E_INTERNAL", message: "m", hint: "h", details: {} };
    expect(schemas.validate("error.schema.json", { error })).toEqual([]);
    expect(schemas.validate("error.schema.json", { error: { ...error, code: "E_X" } }).join()).toContain("does not match");
    expect(schemas.validate("error.schema.json", { error, extra: 1 }).length).toBeGreaterThan(0);
  });
});

describe("the output format", () => {
  it("sorts keys at every level but keeps a run's result as the pipeline returned it", () => {
    const text = formatDocument({ z: { b: 1, a: [{ d: 1, c: 2 }] }, result: { b: 1, a: 2 } });
    expect(text).toBe(
      `{\n  "result": {\n    "b": 1,\n    "a": 2\n  },\n  "z": {\n    "a": [\n      {\n        "c": 2,\n        "d": 1\n      }\n    ],\n    "b": 1\n  }\n}\n`,
    );
  });

  it("prints follow events as single compact lines", () => {
    expect(formatLine({ seq: 2, kind: "log" })).toBe(`{"kind":"log","seq":2}\n`);
  });
});
