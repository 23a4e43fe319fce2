import { build } from "esbuild";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const SDK = join(__dirname, "..", "..", "runtime", "sdk");

function sdkFiles(dir: string = SDK): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sdkFiles(full);
    return /\.(c|m)?[jt]s$/.test(name) ? [full] : [];
  });
}

/** Every module specifier a file names (imports, exports, import(), require()), comments excluded. */
function specifiers(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return [...info.importedFiles, ...info.referencedFiles, ...info.typeReferenceDirectives].map((f) => f.fileName);
}

describe("runtime/sdk stays free of Node and host modules", () => {
  test("every import under runtime/sdk is a relative import of another runtime/sdk file", () => {
    const files = sdkFiles();
    expect(files.length).toBeGreaterThan(5);
    const offenders: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      for (const spec of specifiers(source)) {
        const target = resolve(dirname(file), spec);
        // Relative imports must stay inside runtime/sdk (runtime/sdk/connectors/x.ts may import "../sql-connector");
        // bare names (node:fs, tau, lodash) and anything resolving outside runtime/sdk are host modules.
        if (!(spec.startsWith("./") || spec.startsWith("../")) || relative(SDK, target).startsWith("..")) {
          offenders.push(`${relative(SDK, file)} imports "${spec}"`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  test("the guest runtime bundles for a neutral platform with no externals", async () => {
    const result = await build({
      entryPoints: [join(SDK, "guest.ts")],
      bundle: true,
      platform: "neutral",
      format: "iife",
      target: "es2022",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.every((input) => input.startsWith("runtime/sdk/"))).toBe(true);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/\bprocess\./);
  });
});
