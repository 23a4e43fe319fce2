import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERRORS, ERROR_CODES, TauError } from "../../server/contract";
import { renderErrorsDoc } from "../../scripts/errors-doc-render";

const doc = readFileSync(join(__dirname, "../../docs/errors.md"), "utf8");
const documented = [...doc.matchAll(/^### (TAU_E_[A-Z0-9_]+)$/gm)].map((m) => m[1]);

describe("error registry and docs/errors.md", () => {
  it("documents every registered code", () => {
    const missing = ERROR_CODES.filter((c) => !documented.includes(c));
    expect(missing).toEqual([]);
  });

  it("documents no code that the registry lacks, and none twice", () => {
    expect(documented.filter((c) => !(c in ERRORS))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it("matches the registry's messages and hints exactly (regenerate with npx tsx scripts/errors-doc.ts)", () => {
    expect(doc).toBe(renderErrorsDoc());
  });

  it("gives every code a hint and a TAU_E_ name", () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^TAU_E_[A-Z0-9_]+$/);
      expect(ERRORS[code].hint.length).toBeGreaterThan(10);
    }
  });

  it("round-trips a TauError through its body, and turns unknown codes into TAU_E_INTERNAL", () => {
    const err = new TauError("TAU_E_PIPELINE_NOT_FOUND", "no pipeline 'x'", { name: "x" });
    const back = TauError.fromBody(JSON.parse(JSON.stringify(err.toBody())));
    expect(back.toBody()).toEqual(err.toBody());
    expect(back.status).toBe(404);
    expect(TauError.fromBody({ code: "TAU_E_NOPE", message: "m" }).code).toBe("TAU_E_INTERNAL");
  });
});
