import { describe, expect, test } from "vitest";
import { compilePipeline } from "../../sandbox/compile";
import { guestStackFrames, locateGuestError, mapBundlePosition, parseGuestStack, parseSourceMap } from "../../sandbox/source-map";

const SOURCE = `import { pipeline } from "tau";

export default pipeline({ name: "x" }, async (ctx) => {
  const a = 1;
  ctx.log("a", { a }); // <- log
  return a;
});
`;

function bundlePositionOf(bundle: string, needle: string): { line: number; column: number } {
  const lines = bundle.split("\n");
  const index = lines.findIndex((l) => l.includes(needle));
  return { line: index + 1, column: lines[index]!.indexOf(needle) + 1 };
}

describe("parseGuestStack", () => {
  test("returns the first pipeline.js frame of a V8 stack, 1-based", () => {
    const stack = [
      "TauSdkError: boom",
      "    at callSite (tau-runtime.js:120:7)",
      "    at Object.extract (tau-runtime.js:400:20)",
      "    at fn (pipeline.js:41:11)",
      "    at async pipeline.js:50:3",
    ].join("\n");
    expect(parseGuestStack(stack)).toEqual({ line: 41, column: 11 });
    expect(guestStackFrames(stack)).toEqual([
      { line: 41, column: 11 },
      { line: 50, column: 3 },
    ]);
  });

  test("ignores locations quoted in the message and lines that are not frames", () => {
    const stack = "Error: see pipeline.js:1:1\n  pipeline.js:2:2\n    at x (pipeline.js:7:9)";
    expect(parseGuestStack(stack)).toEqual({ line: 7, column: 9 });
  });

  test("answers null for stacks without a pipeline frame and for values that are not strings", () => {
    expect(parseGuestStack("Error: x\n    at tau-runtime.js:1:1")).toBeNull();
    expect(parseGuestStack(undefined)).toBeNull();
    expect(parseGuestStack({ stack: "pipeline.js:1:1" })).toBeNull();
    expect(parseGuestStack("    at pipeline.js:0:5")).toBeNull();
    expect(parseGuestStack("    at pipeline.jsx:3:5")).toBeNull();
  });

  test("handles hostile stacks (huge, frame-less, pathological) quickly", () => {
    const hostile = [`Error: ${"(".repeat(200_000)}`, `    at ${"pipeline.js:".repeat(50_000)}`, `    at ${"a(".repeat(100_000)}`].join("\n");
    const started = performance.now();
    expect(parseGuestStack(hostile)).toBeNull();
    expect(parseGuestStack(`${"\n".repeat(1_000_000)}    at pipeline.js:3:4`)).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("mapBundlePosition", () => {
  test("maps a bundle position to the line and column in the file as written", async () => {
    const compiled = await compilePipeline({ source: SOURCE, filename: "p.ts", typecheck: false });
    const at = bundlePositionOf(compiled.bundle, 'ctx.log("a"');
    expect(mapBundlePosition(compiled.sourceMap, at.line, at.column)).toEqual({ line: 5, column: 3 });
    const parsed = parseSourceMap(compiled.sourceMap)!;
    expect(mapBundlePosition(parsed, at.line, at.column)).toEqual({ line: 5, column: 3 });
  });

  test("answers null for esbuild's helpers, Tau's import shims, impossible positions and invalid maps", async () => {
    const compiled = await compilePipeline({ source: SOURCE, filename: "p.ts", typecheck: false });
    const helper = bundlePositionOf(compiled.bundle, "var __defProp");
    expect(mapBundlePosition(compiled.sourceMap, helper.line, helper.column)).toBeNull();
    const shim = bundlePositionOf(compiled.bundle, "module.exports = globalThis.__tau_sdk.core");
    expect(mapBundlePosition(compiled.sourceMap, shim.line, shim.column)).toBeNull();
    expect(mapBundlePosition(compiled.sourceMap, 0, 1)).toBeNull();
    expect(mapBundlePosition(compiled.sourceMap, 1.5, 1)).toBeNull();
    expect(mapBundlePosition("not json", 1, 1)).toBeNull();
    expect(mapBundlePosition("{}", 1, 1)).toBeNull();
  });

  test("locateGuestError skips frames in esbuild's helpers and maps the first frame in the user's code", async () => {
    const compiled = await compilePipeline({ source: SOURCE, filename: "p.ts", typecheck: false });
    const helper = bundlePositionOf(compiled.bundle, "var __defProp");
    const user = bundlePositionOf(compiled.bundle, 'ctx.log("a"');
    const stack = `TypeError: Object not disposable\n    at __typeError (pipeline.js:${helper.line}:${helper.column})\n    at fn (pipeline.js:${user.line}:${user.column})`;
    expect(locateGuestError(stack, compiled.sourceMap)).toEqual({ line: 5, column: 3 });
    expect(locateGuestError("Error: x", compiled.sourceMap)).toBeNull();
  });
});
