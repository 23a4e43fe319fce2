import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeDaemon, type FakeDaemon, type FakeDaemonOptions } from "./helpers/fake-daemon";
import { assertBuilt, errorDocument, oneDocument, schemas, tau, unsortedKeyPaths, type TauResult, removeTempDirs, tempDir } from "./helpers/tau-cli";

let work: string;
const daemons: FakeDaemon[] = [];

beforeAll(() => {
  assertBuilt();
  work = tempDir("tau-follow-");
  writeFileSync(join(work, "p.ts"), `export default pipeline({ name: "orders_sync" }, async () => 1);\n`);
});

afterAll(removeTempDirs);

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.close()));
});

async function daemonWithPipeline(options: FakeDaemonOptions = {}): Promise<FakeDaemon> {
  const daemon = await startFakeDaemon(options);
  daemons.push(daemon);
  const deployed = await tau(["deploy", "p.ts"], { env: { TAU_HOST: daemon.url }, cwd: work });
  expect(deployed.code).toBe(0);
  return daemon;
}

/** Asserts NDJSON: every line one compact JSON value with sorted keys matching the follow schema. */
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

const KINDS = ["run.queued", "run.started", "step.started", "log", "step.finished", "run.finished"];

describe("tau logs --follow", () => {
  it("prints each event of a running run as one JSON line, in seq order, while the run goes on", async () => {
    const daemon = await daemonWithPipeline();
    const env = { TAU_HOST: daemon.url };
    const started = oneDocument(await tau(["run", "orders_sync", "--detach", "--params", '{"delayMs": 250}'], { env }), "run.schema.json");

    let firstLineAt = 0;
    const result = await tau(["logs", "orders_sync", "--run", started.id, "--follow"], {
      env,
      onStdout: () => (firstLineAt ||= Date.now()),
    });
    const exitedAt = Date.now();
    expect(result.code).toBe(0);
    const events = ndjson(result);
    expect(events.map((e) => e.kind)).toEqual(KINDS);
    expect(events.every((e) => e.runId === started.id)).toBe(true);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Streamed, not buffered until the end: the first line came well before the run finished.
    expect(exitedAt - firstLineAt).toBeGreaterThan(400);
  });

  it("replays a finished run's events and exits 1 when that run failed", async () => {
    const daemon = await daemonWithPipeline();
    const env = { TAU_HOST: daemon.url };
    expect((await tau(["run", "orders_sync", "--params", '{"fail": true}'], { env })).code).toBe(1);
    const result = await tau(["logs", "orders_sync", "--follow"], { env });
    expect(result.code).toBe(1);
    const events = ndjson(result);
    expect(events.map((e) => e.kind)).toEqual(KINDS);
    expect(events.at(-1).data).toEqual({ status: "failed" });
  });

  it("reconnects when the connection drops and resumes after the last seq, missing and repeating nothing", async () => {
    const daemon = await daemonWithPipeline({ dropWebSocketEvery: 2 });
    const env = { TAU_HOST: daemon.url };
    const started = oneDocument(await tau(["run", "orders_sync", "--detach", "--params", '{"delayMs": 300}'], { env }), "run.schema.json");
    const result = await tau(["logs", "orders_sync", "--run", started.id, "--follow"], { env });
    expect(result.code).toBe(0);
    const events = ndjson(result);
    expect(events.map((e) => e.kind)).toEqual(KINDS);
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    // Live events arrived over more than one connection: the stream really was resumed.
    expect(daemon.wsConnections()).toBeGreaterThanOrEqual(2);
  });

  it("answers an unknown run id with the daemon's error and exit 3", async () => {
    const daemon = await daemonWithPipeline();
    const result = await tau(["logs", "orders_sync", "--run", "run_9999", "--follow"], { env: { TAU_HOST: daemon.url } });
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_RUN_NOT_FOUND");
  });

  it("answers a pipeline that has never run with TAU_E_NO_RUNS", async () => {
    const daemon = await daemonWithPipeline();
    const result = await tau(["logs", "orders_sync", "--follow"], { env: { TAU_HOST: daemon.url } });
    expect(result.code).toBe(3);
    errorDocument(result, "TAU_E_NO_RUNS");
  });
});
