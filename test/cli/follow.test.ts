/**
 * `tau logs --follow` against the loopback stand-in for taud, whose event timing and socket drops the
 * test controls. Following the real daemon is covered in daemon.test.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeDaemon, type FakeDaemon, type FakeDaemonOptions } from "./helpers/fake-daemon";
import { assertBuilt, oneDocument, removeTempDirs, schemas, tau, tempDir, unsortedKeyPaths, type TauResult } from "./helpers/tau-cli";

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
  const deployed = await tau(["deploy", "p.ts"], { env: { TAU_HOST: daemon.url, TAU_TOKEN: options.token }, cwd: work });
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
    // Six events 600 ms apart: the run lasts seconds, longer than starting tau takes on a busy machine.
    const runId = await daemon.startRun("orders_sync", { delayMs: 600 });
    let firstLineAt = 0;
    const result = await tau(["logs", "orders_sync", "--run", runId, "--follow"], {
      env: { TAU_HOST: daemon.url },
      onStdout: () => (firstLineAt ||= Date.now()),
    });
    expect(result.code).toBe(0);
    const events = ndjson(result);
    expect(events.map((e) => e.kind)).toEqual(KINDS);
    expect(events.every((e) => e.runId === runId)).toBe(true);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Streamed, not buffered until the end: the first line was printed before the run had finished.
    expect(firstLineAt).toBeLessThan(Date.parse(events.at(-1).ts));
  });

  it("reconnects when the connection drops and resumes after the last seq, missing and repeating nothing", async () => {
    // Every socket closes after two events and history comes only over the socket: six events take three connections.
    const daemon = await daemonWithPipeline({ dropWebSocketEvery: 2, eventsRoute: false });
    const env = { TAU_HOST: daemon.url };
    expect((await tau(["run", "orders_sync"], { env })).code).toBe(0);
    const result = await tau(["logs", "orders_sync", "--follow"], { env });
    expect(result.code).toBe(0);
    const events = ndjson(result);
    expect(events.map((e) => e.kind)).toEqual(KINDS);
    expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
    expect(daemon.wsConnections()).toBeGreaterThanOrEqual(3);
  });

  it("resumes a live run across drops", async () => {
    const daemon = await daemonWithPipeline({ dropWebSocketEvery: 1 });
    const runId = await daemon.startRun("orders_sync", { delayMs: 300 });
    const result = await tau(["logs", "orders_sync", "--run", runId, "--follow"], { env: { TAU_HOST: daemon.url } });
    expect(result.code).toBe(0);
    expect(ndjson(result).map((e) => e.kind)).toEqual(KINDS);
    expect(daemon.wsConnections()).toBeGreaterThanOrEqual(2);
  });

  it("fetches history over HTTP when the daemon's subscription sends only live events", async () => {
    const daemon = await daemonWithPipeline({ replayOnSubscribe: false });
    const env = { TAU_HOST: daemon.url };
    expect((await tau(["run", "orders_sync"], { env })).code).toBe(0);
    const result = await tau(["logs", "orders_sync", "--follow"], { env });
    expect(result.code).toBe(0);
    expect(ndjson(result).map((e) => e.kind)).toEqual(KINDS);
  });

  it("sends TAU_TOKEN on the WebSocket too", async () => {
    const daemon = await daemonWithPipeline({ token: "s3cret" });
    const env = { TAU_HOST: daemon.url, TAU_TOKEN: "s3cret" };
    expect((await tau(["run", "orders_sync"], { env })).code).toBe(0);
    const result = await tau(["logs", "orders_sync", "--follow"], { env });
    expect(result.code).toBe(0);
    expect(ndjson(result).map((e) => e.kind)).toEqual(KINDS);
  });

});
