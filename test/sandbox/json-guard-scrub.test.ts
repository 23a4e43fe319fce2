import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonDepth, parseGuardedJson, stringifyGuarded } from "../../sandbox/json-guard";
import { SecretScrubber } from "../../sandbox/scrub";
import { stripHostDetails } from "../../sandbox/executor/sanitize";
import { findPackageRoot } from "../../sandbox/package-root";

describe("guarded JSON", () => {
  it("measures depth without recursion, ignoring brackets inside strings", () => {
    expect(jsonDepth(`{"a":[1,{"b":"[[[{{{"}]}`)).toBe(3);
    expect(jsonDepth(`"\\"[["`)).toBe(0);
    expect(jsonDepth("[".repeat(1_000_000) + "]".repeat(1_000_000))).toBe(1_000_000);
  });

  it("refuses 1M-deep JSON with a clear error and never overflows the host stack", () => {
    const deep = "[".repeat(1_000_000) + "]".repeat(1_000_000);
    const result = parseGuardedJson(deep, { maxBytes: 10_000_000, maxDepth: 64 });
    expect(result).toMatchObject({ ok: false, problem: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID", details: { maxDepth: 64 } } });
  });

  it("refuses text over the byte limit counting UTF-8 bytes, and non-strings", () => {
    expect(parseGuardedJson(`"${"é".repeat(600)}"`, { maxBytes: 1000, maxDepth: 4 })).toMatchObject({ ok: false, problem: { code: "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE" } });
    expect(parseGuardedJson({ a: 1 }, { maxBytes: 1000, maxDepth: 4 })).toMatchObject({ ok: false, problem: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID" } });
    expect(parseGuardedJson(`{"a":[1]}`, { maxBytes: 1000, maxDepth: 4 })).toEqual({ ok: true, value: { a: [1] } });
  });

  it("serialises host values with the same limits, catching values JSON cannot hold", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(stringifyGuarded(cyclic, { maxBytes: 100, maxDepth: 4 })).toMatchObject({ ok: false, problem: { code: "TAU_E_BRIDGE_PAYLOAD_INVALID" } });
    expect(stringifyGuarded({ a: "x".repeat(200) }, { maxBytes: 100, maxDepth: 4 })).toMatchObject({ ok: false, problem: { code: "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE" } });
    expect(stringifyGuarded(undefined, { maxBytes: 100, maxDepth: 4 })).toEqual({ ok: true, value: "null" });
  });
});

describe("SecretScrubber", () => {
  it("replaces a value, its JSON-escaped and its URL-encoded forms, in strings and keys, keeping key order", () => {
    const s = new SecretScrubber();
    s.add("DSN", 'p@ss "word"/x');
    expect(s.scrubText('dsn=p@ss "word"/x;')).toBe("dsn=[secret:DSN];");
    expect(s.scrubText(JSON.stringify({ v: 'p@ss "word"/x' }))).toBe('{"v":"[secret:DSN]"}');
    expect(s.scrubText(`u=${encodeURIComponent('p@ss "word"/x')}`)).toBe("u=[secret:DSN]");
    const value = { a: 1, ['p@ss "word"/x']: ["p@ss \"word\"/x!", { deep: 'p@ss "word"/x' }], z: null };
    const scrubbed = s.scrubValue(value);
    expect(scrubbed).toEqual({ a: 1, "[secret:DSN]": ["[secret:DSN]!", { deep: "[secret:DSN]" }], z: null });
    expect(Object.keys(scrubbed)).toEqual(["a", "[secret:DSN]", "z"]);
  });

  it("replaces the longer of two overlapping secrets whole, and leaves values shorter than 4 characters alone", () => {
    const s = new SecretScrubber();
    s.add("SHORT", "abc");
    s.add("PART", "token");
    s.add("WHOLE", "token-with-more");
    expect(s.scrubText("abc token token-with-more")).toBe("abc [secret:PART] [secret:WHOLE]");
  });

  it("scrubs a 100k-deep value without recursion", () => {
    const s = new SecretScrubber();
    s.add("K", "secret-value");
    let v: unknown = "secret-value";
    for (let i = 0; i < 100_000; i++) v = [v];
    let out = s.scrubValue(v);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect(out).toBe("[secret:K]");
  });
});

describe("stripHostDetails", () => {
  it("removes stack frames and installation paths but keeps ordinary lines that start with 'at'", () => {
    const root = findPackageRoot();
    const text = [
      `IO Error: cannot open ${root}/node_modules/@duckdb/x.node`,
      `    at open (${root}/dist/sandbox/executor.js:10:5)`,
      `    at async Promise.all (index 0)`,
      `at least 3 rows were expected`,
    ].join("\n");
    const out = stripHostDetails(text);
    expect(out).not.toContain(root);
    expect(out).not.toMatch(/^\s+at /m);
    expect(out).toContain("at least 3 rows were expected");
  });
});

describe("jsonDepth's string skipping", () => {
  /** The plain per-character scan jsonDepth replaced: the reference the fast version must agree with. */
  const reference = (text: string): number => {
    let depth = 0;
    let max = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === "[" || c === "{") max = Math.max(max, ++depth);
      else if (c === "]" || c === "}") depth--;
    }
    return max;
  };

  it("agrees with a per-character scan on JSON built from strings full of quotes, backslashes and brackets", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.string({ unit: fc.constantFrom('"', "\\", "[", "{", "}", "]", "a", "é") }), (value, s) => {
        for (const text of [JSON.stringify(value), JSON.stringify([s, value, { [s]: s }])]) {
          expect(jsonDepth(text)).toBe(reference(text));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("does not count brackets inside strings that end in escaped backslashes", () => {
    expect(jsonDepth(JSON.stringify(["\\", "[[[", "\\\\\"{{", { a: "\\" }]))).toBe(2);
  });
});
