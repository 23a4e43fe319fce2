/**
 * The dashboard's pure parts, in Node: source highlighting split into lines, the DAG derived from
 * dependsOn, the live connection's resume/dedupe rules driven through a stand-in for the browser's
 * WebSocket (the real browser runs the same code in dashboard.test.ts), and what web/ may import.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../server/contract";
import { deriveDag } from "../../web/src/dag-model";
import { highlightLines } from "../../web/src/highlight";
import { LiveClient } from "../../web/src/live";

const text = (html: string): string =>
  html.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&amp;/g, "&");

describe("highlighting a pipeline file", () => {
  it("gives one well-formed line per source line, even inside block comments and template strings", () => {
    const source = [
      'import { pipeline } from "tau";',
      "/* a comment",
      "   over two lines */",
      "const sql = `SELECT *",
      "  FROM t WHERE a < ${1}`;",
      'const html = "<script>alert(1)</script>";',
      "",
    ].join("\n");
    const lines = highlightLines(source);
    expect(lines).toHaveLength(7);
    expect(lines.map(text)).toEqual(source.split("\n"));
    for (const line of lines) {
      expect((line.match(/<span/g) ?? []).length).toBe((line.match(/<\/span>/g) ?? []).length);
      expect(line).not.toContain("<script>");
    }
    expect(lines[2]).toMatch(/^<span class="hljs-comment">/);
    expect(lines[0]).toContain('<span class="hljs-keyword">import</span>');
  });
});

describe("deriving the DAG from dependsOn", () => {
  it("draws edges between deployed pipelines, groups them by level, and lists what is missing", () => {
    const p = (name: string, dependsOn: string[] = []) => ({ name, dependsOn, schedule: null, lastRun: null });
    const dag = deriveDag([p("a"), p("b"), p("c", ["a", "b"]), p("d", ["c"]), p("e", ["c", "ghost"]), p("f", ["a"])]);
    expect(dag.edges).toEqual([
      { from: "a", to: "c" },
      { from: "b", to: "c" },
      { from: "c", to: "d" },
      { from: "c", to: "e" },
      { from: "a", to: "f" },
    ]);
    expect(dag.groups).toEqual([["a", "b"], ["c", "f"], ["d", "e"]]);
    expect(dag.missing).toEqual(["ghost"]);
    expect(dag.nodes.map((n) => n.lastStatus)).toEqual([null, null, null, null, null, null]);
  });

  it("does not loop on a cycle", () => {
    const dag = deriveDag([
      { name: "x", dependsOn: ["y"], schedule: null, lastRun: { status: "failed" } },
      { name: "y", dependsOn: ["x"], schedule: "0 * * * *", lastRun: null },
    ]);
    expect(dag.nodes).toHaveLength(2);
    expect(dag.groups.flat().sort()).toEqual(["x", "y"]);
  });
});

/** Stands in for the browser's WebSocket: records what the client sends, lets the test play the server. */
class FakeSocket {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.drop();
  }
  open(): void {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.();
  }
  event(e: Partial<RunEvent> & { seq: number }): void {
    this.onmessage?.({ data: JSON.stringify({ type: "event", event: { runId: "r1", pipeline: "p", kind: "log", ...e } }) });
  }
  subscribed(extra: Record<string, unknown>, lastSeq: number): void {
    this.onmessage?.({ data: JSON.stringify({ type: "subscribed", ...extra, lastSeq }) });
  }
}

describe("the live connection", () => {
  const original = (globalThis as { WebSocket?: unknown }).WebSocket;
  beforeEach(() => {
    FakeSocket.all = [];
    (globalThis as { WebSocket?: unknown }).WebSocket = FakeSocket;
  });
  afterEach(() => {
    (globalThis as { WebSocket?: unknown }).WebSocket = original;
  });

  const waitFor = async (predicate: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !predicate(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(predicate()).toBe(true);
  };

  it("resubscribes after a drop from the last seq delivered and drops what the server sends twice", async () => {
    const client = new LiveClient("ws://test/api/events");
    const seen: number[] = [];
    client.subscribe({ runId: "r1" }, { onEvent: (e) => seen.push(e.seq) }, { from: 0 });
    client.start();
    const first = FakeSocket.all[0];
    first.open();
    expect(first.sent).toEqual([{ type: "subscribe", runId: "r1", afterSeq: 0 }]);
    first.event({ seq: 3 });
    first.event({ seq: 5 });
    first.event({ seq: 4 }); // out of order or repeated: never delivered twice
    first.event({ seq: 5 });
    first.event({ seq: 9, runId: "other" }); // another run's event
    first.drop();
    expect(client.connectionState).toBe("reconnecting");
    await waitFor(() => FakeSocket.all.length === 2);
    const second = FakeSocket.all[1];
    second.open();
    expect(second.sent).toEqual([{ type: "subscribe", runId: "r1", afterSeq: 5 }]);
    second.event({ seq: 5 });
    second.event({ seq: 7 });
    expect(seen).toEqual([3, 5, 7]);
    expect(client.connections).toBe(2);
    client.close();
  });

  it("follows 'from now on' with the server's lastSeq, and shares one subscription between listeners", () => {
    const client = new LiveClient("ws://test/api/events");
    const a: number[] = [];
    const b: number[] = [];
    const stopA = client.subscribe({ all: true }, { onEvent: (e) => a.push(e.seq) }, { from: "now", kinds: ["run.finished"] });
    client.subscribe({ all: true }, { onEvent: (e) => b.push(e.seq) }, { from: "now", kinds: ["run.finished"] });
    client.start();
    const socket = FakeSocket.all[0];
    socket.open();
    expect(socket.sent).toEqual([{ type: "subscribe", all: true, afterSeq: Number.MAX_SAFE_INTEGER, kinds: ["run.finished"] }]);
    socket.subscribed({ all: true }, 40);
    socket.event({ seq: 40, kind: "run.finished" });
    socket.event({ seq: 41, kind: "log" });
    socket.event({ seq: 42, kind: "run.finished" });
    expect(a).toEqual([42]);
    expect(b).toEqual([42]);
    stopA();
    expect(socket.sent).toHaveLength(1); // b still listens: no unsubscribe yet
    socket.event({ seq: 43, kind: "run.finished" });
    expect(a).toEqual([42]);
    expect(b).toEqual([42, 43]);
    client.close();
  });
});

describe("the dashboard's imports", () => {
  const WEB = join(__dirname, "..", "..", "web", "src");
  const CONTRACT = join(__dirname, "..", "..", "server", "contract");
  const PACKAGES = new Set(["preact", "preact/hooks", "@dagrejs/dagre", "highlight.js/lib/core", "highlight.js/lib/languages/typescript"]);
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));

  it("are its own files, its three UI packages, and only types from server/contract", () => {
    const bad: string[] = [];
    for (const file of files(WEB)) {
      const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
      for (const node of sf.statements) {
        if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue;
        if (!node.moduleSpecifier || !ts.isStringLiteral(node.moduleSpecifier)) continue;
        const spec = node.moduleSpecifier.text;
        const where = `${relative(WEB, file)}: ${spec}`;
        if (!spec.startsWith(".")) {
          if (!PACKAGES.has(spec)) bad.push(where);
          continue;
        }
        const target = resolve(dirname(file), spec);
        if (target === CONTRACT || target.startsWith(CONTRACT + sep)) {
          const typeOnly = ts.isImportDeclaration(node) && node.importClause?.isTypeOnly === true;
          if (!typeOnly) bad.push(`${where} (not "import type")`);
        } else if (!(target === WEB || target.startsWith(WEB + sep))) {
          bad.push(where);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
