/**
 * What `tau` prints. The agent parses stdout, so every command prints exactly one JSON document there
 * (2-space indented, keys sorted, trailing newline); progress and hints go to stderr. The one exception
 * is `tau logs --follow`, which prints one compact JSON event per line (NDJSON) while it follows.
 */
import type { Writable } from "node:stream";
import type { ErrorBody } from "../server/contract";

/**
 * Keys whose value is the pipeline author's data, printed exactly as stored: a run's `result` may hold rows
 * whose column order means something to the author. Everywhere else key order has no meaning, so keys
 * are sorted to make the same state print the same bytes.
 */
const VERBATIM_KEYS = new Set(["result"]);

/** Returns a copy of `value` with object keys sorted recursively (except under VERBATIM_KEYS). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined) continue;
    out[key] = VERBATIM_KEYS.has(key) ? child : sortKeys(child);
  }
  return out;
}

/** The one JSON document a command prints: sorted keys, 2-space indent, trailing newline. */
export function formatDocument(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** One NDJSON line (used only by `tau logs --follow`). */
export function formatLine(value: unknown): string {
  return `${JSON.stringify(sortKeys(value))}\n`;
}

export function errorDocument(body: ErrorBody): { error: ErrorBody } {
  return { error: { code: body.code, message: body.message, hint: body.hint, details: body.details ?? {} } };
}

export function writeDocument(stream: Writable, value: unknown): void {
  stream.write(formatDocument(value));
}

export function writeLine(stream: Writable, value: unknown): void {
  stream.write(formatLine(value));
}

/** A human hint on stderr; never part of what an agent parses. */
export function writeHint(stream: Writable, text: string): void {
  stream.write(`tau: ${text}\n`);
}
