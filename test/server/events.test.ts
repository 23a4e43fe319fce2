import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent, RunView, WsServerMessage } from "../../server/contract";
import type { Daemon } from "../../server";
import { busyWait, pipelineSource, startDaemon, tempHome } from "./helpers/daemon";
import { backendDatabase, STORE_BACKENDS } from "./helpers/postgres";

let daemon: Daemon;
let home: ReturnType<typeof tempHome>;
let dropDatabase: () => Promise<void> = async () => undefined;

/** 40 log lines about 10 ms apart: long enough to subscribe, drop and resubscribe while it runs. */
const CHATTY = pipelineSource(
  "chatty",
  `  await ctx.step("talk", async () => {
    for (let i = 0; i < 40; i++) {
      ${busyWait("10")}
      ctx.log("line", { i });
    }
  });
  return { lines: 40 };`,
);

/** 3,000 log lines over a second or so: a replay of it spans several pages while it still writes. */
const LONG = pipelineSource(
  "long",
  `  const pad = "y".repeat(200);
  for (let i = 0; i < 3000; i++) {
    if (i % 10 === 0) ${busyWait("3")}
    ctx.log(pad, { i });
  }
  return 1;`,
);

const BIG = pipelineSource("big", `  const pad = "x".repeat(1000);\n  for (let i = 0; i < 6000; i++) ctx.log(pad, { i });\n  return 1;`);


/** A real WebSocket client that records every server message. */
class Client {
  readonly messages: WsServerMessage[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor() {
    this.ws = new WebSocket(`${daemon.url.replace("http", "ws")}/api/events`);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.closed = new Promise((resolve) => this.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()) as WsServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  events(): RunEvent[] {
    return this.messages.flatMap((m) => (m.type === "event" ? [m.event] : []));
  }

  async until(predicate: (client: Client) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

async function startRun(name: string): Promise<string> {
  const res = await daemon.app.inject({ method: "POST", url: `/api/pipelines/${name}/runs`, payload: {} });
  return (res.json() as RunView).id;
}

async function storedEvents(runId: string): Promise<RunEvent[]> {
  return (await daemon.app.inject({ method: "GET", url: `/api/runs/${runId}/events` })).json().events;
}

const finished = (runId: string) => (c: Client) => c.events().some((e) => e.runId === runId && e.kind === "run.finished");

function expectStrictlyIncreasing(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
}

// The same stream on both stores: the replay reads the store while events are being written to it.
describe.each(STORE_BACKENDS)("on %s", (backend) => {
  beforeAll(async () => {
    home = tempHome();
    const database = await backendDatabase(backend);
    dropDatabase = database.drop;
    daemon = await startDaemon(home.home, { wsMaxBufferedBytes: 64 * 1024, databaseUrl: database.databaseUrl });
    for (const [source, filename] of [
      [CHATTY, "chatty.ts"],
      [BIG, "big.ts"],
      [LONG, "long.ts"],
    ]) {
      const res = await daemon.app.inject({ method: "POST", url: "/api/pipelines", payload: { source, filename } });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await daemon?.close();
    await dropDatabase();
    home.remove();
  });

  describe("event stream over WebSocket", () => {
    it("replays a run's stored events, then streams live ones, with no gap and no duplicate", async () => {
      const runId = await startRun("chatty");
      // Let part of the run happen before subscribing, so both replay and live are exercised.
      const early = new Client();
      await early.opened;
      early.send({ type: "subscribe", runId });
      await early.until((c) => c.events().some((e) => e.kind === "log"));
      early.close();

      const client = new Client();
      await client.opened;
      client.send({ type: "subscribe", runId, afterSeq: 0 });
      await client.until(finished(runId));
      const received = client.events();
      expect(received).toEqual(await storedEvents(runId));
      expect(received[0]!.kind).toBe("run.queued");
      expect(received.filter((e) => e.kind === "log")).toHaveLength(40);
      expectStrictlyIncreasing(received.map((e) => e.seq));
      const subscribed = client.messages.find((m) => m.type === "subscribed");
      expect(subscribed).toMatchObject({ type: "subscribed", runId });
      client.close();
    });

    it("resumes after a dropped connection from the last seq seen, missing nothing and repeating nothing", async () => {
      const runId = await startRun("chatty");
      const first = new Client();
      await first.opened;
      first.send({ type: "subscribe", runId });
      await first.until((c) => c.events().filter((e) => e.kind === "log").length >= 5);
      first.close();
      const seen = first.events();
      const lastSeq = seen.at(-1)!.seq;

      const second = new Client();
      await second.opened;
      second.send({ type: "subscribe", runId, afterSeq: lastSeq });
      await second.until(finished(runId));
      const resumed = second.events();
      expect(resumed[0]!.seq).toBeGreaterThan(lastSeq);
      const all = [...seen, ...resumed];
      expectStrictlyIncreasing(all.map((e) => e.seq));
      expect(all).toEqual(await storedEvents(runId));
      second.close();
    });

    it("replays a long run over several pages while it still writes, then follows it live, losing nothing", async () => {
      const runId = await startRun("long");
      for (let i = 0; i < 200 && (await storedEvents(runId)).length < 1_200; i++) await new Promise((r) => setTimeout(r, 20));
      const client = new Client();
      await client.opened;
      client.send({ type: "subscribe", runId });
      await client.until(finished(runId), 30_000);
      const received = client.events();
      expect(received.length).toBeGreaterThan(3_000);
      expectStrictlyIncreasing(received.map((e) => e.seq));
      expect(received).toEqual(await storedEvents(runId));
      client.close();
    });

    it("answers subscribed with a lastSeq that covers everything replayed", async () => {
      const runId = await startRun("chatty");
      const watcher = new Client();
      await watcher.opened;
      watcher.send({ type: "subscribe", runId });
      await watcher.until(finished(runId));
      watcher.close();

      const late = new Client();
      await late.opened;
      late.send({ type: "subscribe", runId });
      await late.until((c) => c.messages.some((m) => m.type === "subscribed"));
      const subscribedAt = late.messages.findIndex((m) => m.type === "subscribed");
      const replayed = late.messages.slice(0, subscribedAt).flatMap((m) => (m.type === "event" ? [m.event] : []));
      const subscribed = late.messages[subscribedAt] as Extract<WsServerMessage, { type: "subscribed" }>;
      expect(replayed).toEqual(await storedEvents(runId));
      expect(subscribed.lastSeq).toBeGreaterThanOrEqual(replayed.at(-1)!.seq);
      late.close();
    });

    it("streams every run of a subscribed pipeline, from now on when afterSeq is beyond the newest event", async () => {
      const client = new Client();
      await client.opened;
      client.send({ type: "subscribe", pipeline: "chatty", afterSeq: 1_000_000_000 });
      await client.until((c) => c.messages.some((m) => m.type === "subscribed"));
      const a = await startRun("chatty");
      const b = await startRun("chatty");
      await client.until((c) => finished(a)(c) && finished(b)(c));
      const received = client.events();
      expect(new Set(received.map((e) => e.runId))).toEqual(new Set([a, b]));
      expect(received.every((e) => e.pipeline === "chatty")).toBe(true);
      expectStrictlyIncreasing(received.map((e) => e.seq));
      client.close();
    });

    it("answers bad messages with an error and keeps the connection open", async () => {
      const client = new Client();
      await client.opened;
      client.send("not json");
      client.send({ type: "subscribe" });
      client.send({ type: "subscribe", runId: "run_x", pipeline: "chatty" });
      client.send({ type: "subscribe", runId: "run_x", afterSeq: -1 });
      client.send({ type: "dance" });
      client.send({ type: "subscribe", runId: "run_missing" });
      await client.until((c) => c.messages.length >= 6);
      expect(client.messages.map((m) => (m.type === "error" ? m.error.code : m.type))).toEqual([
        "TAU_E_REQUEST_INVALID",
        "TAU_E_REQUEST_INVALID",
        "TAU_E_REQUEST_INVALID",
        "TAU_E_REQUEST_INVALID",
        "TAU_E_REQUEST_INVALID",
        "TAU_E_RUN_NOT_FOUND",
      ]);
      expect(client.messages[0]).toEqual({ type: "error", error: { code: "TAU_E_REQUEST_INVALID", message: expect.any(String), hint: expect.any(String) } });
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      client.close();
    });

    it("disconnects a client that stops reading, with a reason to resubscribe", async () => {
      const client = new Client();
      await client.opened;
      client.send({ type: "subscribe", pipeline: "big" });
      await client.until((c) => c.messages.some((m) => m.type === "subscribed"));
      // Stop reading: the server's send buffer fills up once the kernel's socket buffers are full.
      (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const runId = await startRun("big");
      const res = await daemon.app.inject({ method: "POST", url: `/api/pipelines/big/runs`, payload: { wait: true } });
      expect(res.json().status).toBe("succeeded");
      (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const { code, reason } = await client.closed;
      expect(code).toBe(1013);
      expect(reason).toContain("TAU_E_EVENTS_SLOW_CONSUMER");
      // What it did receive is a gap-free prefix, so resubscribing from its last seq loses nothing.
      const got = client.events().filter((e) => e.runId === runId);
      const stored = await storedEvents(runId);
      expect(got).toEqual(stored.slice(0, got.length));
    });
  });
});
