/**
 * JSON that crosses the sandbox boundary, checked before the host touches it. Guest-built JSON can be
 * arbitrarily large and nest far deeper than the host's stack can re-serialise, so sizes and depth are
 * checked on the raw text first — iteratively, never by recursion on the host stack — and only then parsed.
 */
import type { ErrorCode } from "../server/contract";

export interface JsonLimits {
  /** Largest accepted text, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest accepted nesting of arrays and objects (a scalar has depth 0, `[]` depth 1). */
  maxDepth: number;
}

export interface JsonProblem {
  code: Extract<ErrorCode, "TAU_E_BRIDGE_PAYLOAD_TOO_LARGE" | "TAU_E_BRIDGE_PAYLOAD_INVALID">;
  message: string;
  details: Record<string, unknown>;
}

export type GuardedJson<T = unknown> = { ok: true; value: T } | { ok: false; problem: JsonProblem };

/** UTF-8 byte length without allocating a buffer. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * The deepest nesting of `[`/`{` in a JSON text, stopping early once `limit` is passed (returns a value
 * greater than `limit` then). Strings are skipped, escapes honoured. Iterative: O(n) time, O(1) stack.
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Jump over the string with indexOf (native) instead of a JS loop per character: rows are mostly
      // string bytes. A quote preceded by an odd run of backslashes is escaped.
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return max; // unterminated: JSON.parse rejects it
        let slashes = 0;
        for (let b = q - 1; b >= from && text.charCodeAt(b) === 92 /* \ */; b--) slashes++;
        if (slashes % 2 === 0) {
          i = q;
          break;
        }
        from = q + 1;
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

/** Parses guest JSON after checking its size and depth. Never throws. */
export function parseGuardedJson<T = unknown>(text: unknown, limits: JsonLimits, what = "payload"): GuardedJson<T> {
  if (typeof text !== "string") {
    return fail("TAU_E_BRIDGE_PAYLOAD_INVALID", `The ${what} must be a JSON string, got ${describeType(text)}.`, {});
  }
  const problem = checkJsonText(text, limits, what);
  if (problem) return problem;
  try {
    return { ok: true, value: JSON.parse(text) as T };
  } catch (err) {
    return fail("TAU_E_BRIDGE_PAYLOAD_INVALID", `The ${what} is not valid JSON (${(err as Error).message}).`, {});
  }
}

/**
 * Serialises a host-built value and checks the result against the limits. Host values are normally shallow,
 * but they may embed guest data (a row's JSON column), so depth is checked here too. Never throws.
 */
export function stringifyGuarded(value: unknown, limits: JsonLimits, what = "answer"): GuardedJson<string> {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return fail("TAU_E_BRIDGE_PAYLOAD_INVALID", `The ${what} cannot be serialised as JSON (${(err as Error).message}).`, {});
  }
  if (text === undefined) text = "null";
  return checkJsonText(text, limits, what) ?? { ok: true, value: text };
}

/** Whether a parsed JSON value is a plain object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

function fail(code: JsonProblem["code"], message: string, details: Record<string, unknown>): { ok: false; problem: JsonProblem } {
  return { ok: false, problem: { code, message, details } };
}

/** Size, then depth, of JSON text; null when within the limits. */
function checkJsonText(text: string, limits: JsonLimits, what: string): { ok: false; problem: JsonProblem } | null {
  // Cheap pre-check on length (UTF-16 units ≤ UTF-8 bytes) before the exact byte count.
  if (text.length > limits.maxBytes || utf8Bytes(text) > limits.maxBytes) {
    return fail("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The ${what} is larger than ${limits.maxBytes} bytes.`, {
      limitBytes: limits.maxBytes,
    });
  }
  if (jsonDepth(text, limits.maxDepth) > limits.maxDepth) {
    return fail("TAU_E_BRIDGE_PAYLOAD_INVALID", `The ${what} nests deeper than ${limits.maxDepth} levels.`, {
      maxDepth: limits.maxDepth,
    });
  }
  return null;
}

/**
 * Copies a JSON-like value, passing every string (and, with `keys`, every object key) through `fn`.
 * Iterative, so a deeply nested value cannot overflow the host stack.
 */
export function mapJsonStrings<T>(value: T, fn: (text: string) => string, options: { keys?: boolean } = {}): T {
  if (typeof value === "string") return fn(value) as T;
  if (typeof value !== "object" || value === null) return value;
  const root: { v: unknown } = { v: undefined };
  const stack: Array<{ src: unknown; set: (v: unknown) => void }> = [{ src: value, set: (v) => (root.v = v) }];
  while (stack.length > 0) {
    const { src, set } = stack.pop()!;
    if (typeof src === "string") {
      set(fn(src));
    } else if (Array.isArray(src)) {
      const copy: unknown[] = new Array(src.length);
      set(copy);
      for (let i = 0; i < src.length; i++) stack.push({ src: src[i], set: (v) => (copy[i] = v) });
    } else if (typeof src === "object" && src !== null) {
      const copy: Record<string, unknown> = {};
      set(copy);
      for (const [k, v] of Object.entries(src)) {
        const key = options.keys ? fn(k) : k;
        copy[key] = undefined; // keeps the key order; filled below
        stack.push({ src: v, set: (x) => (copy[key] = x) });
      }
    } else {
      set(src);
    }
  }
  return root.v as T;
}
