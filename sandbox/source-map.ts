/**
 * Pointing guest errors at the pipeline file as written: parse `pipeline.js:LINE:COL` frames out of a
 * guest stack (hostile text: capped, regex only) and map bundle positions through esbuild's source map
 * with Node's built-in SourceMap.
 */
import { SourceMap, type SourceMapPayload, type SourceMapping } from "node:module";

/** A 1-based position. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** The filename the executor compiles the bundle under (bridge protocol, step 5). */
export const BUNDLE_FILENAME = "pipeline.js";

/** Sources in the map that are Tau's import shims, not the user's file. */
const SHIM_SOURCE_PREFIX = "tau-sdk:";

const STACK_MAX_CHARS = 64 * 1024;
const LINE_MAX_CHARS = 4 * 1024;
const FRAMES_MAX = 100;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isPositiveInt(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1;
}

/**
 * Every `FILE:LINE:COL` stack frame of `filename` in a guest stack, in order (at most 100). Only lines
 * that look like frames (`    at …`) count, so an error message quoting a location does not.
 */
export function guestStackFrames(stack: unknown, filename: string = BUNDLE_FILENAME): SourcePosition[] {
  if (typeof stack !== "string" || stack === "") return [];
  const text = stack.length > STACK_MAX_CHARS ? stack.slice(0, STACK_MAX_CHARS) : stack;
  const frame = new RegExp(`${escapeRegExp(filename)}:(\\d{1,9}):(\\d{1,9})(?!\\d)`);
  const frames: SourcePosition[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.length > LINE_MAX_CHARS ? rawLine.slice(0, LINE_MAX_CHARS) : rawLine;
    if (!/^\s+at\s/.test(line)) continue;
    const match = frame.exec(line);
    if (!match) continue;
    const position = { line: Number(match[1]), column: Number(match[2]) };
    if (isPositiveInt(position.line) && isPositiveInt(position.column)) frames.push(position);
    if (frames.length >= FRAMES_MAX) break;
  }
  return frames;
}

/**
 * The first `pipeline.js:LINE:COL` frame of a guest error's stack (1-based, positions in the bundle), or
 * null when there is none.
 *
 * @example parseGuestStack("Error: x\n    at run (pipeline.js:41:11)") // { line: 41, column: 11 }
 */
export function parseGuestStack(stack: unknown, filename: string = BUNDLE_FILENAME): SourcePosition | null {
  return guestStackFrames(stack, filename)[0] ?? null;
}

function toSourceMap(sourceMap: string | SourceMapPayload | SourceMap): SourceMap | null {
  if (sourceMap instanceof SourceMap) return sourceMap;
  try {
    const payload = typeof sourceMap === "string" ? (JSON.parse(sourceMap) as SourceMapPayload) : sourceMap;
    return new SourceMap(payload);
  } catch {
    return null;
  }
}

/**
 * Parses a source map once for several lookups (the executor maps every failed run and step).
 * Returns null when the text is not a source map.
 */
export function parseSourceMap(sourceMap: string | SourceMapPayload): SourceMap | null {
  return toSourceMap(sourceMap);
}

/**
 * Maps a 1-based bundle position to the 1-based position in the pipeline file as written, or null when
 * the position is not in the user's code (esbuild's helpers, Tau's import shims) or the map is invalid.
 *
 * @example mapBundlePosition(compiled.sourceMap, 41, 11) // { line: 7, column: 5 }
 */
export function mapBundlePosition(
  sourceMap: string | SourceMapPayload | SourceMap,
  line: number,
  column: number,
): SourcePosition | null {
  if (!isPositiveInt(line) || !isPositiveInt(column)) return null;
  const map = toSourceMap(sourceMap);
  if (map === null) return null;
  let entry: Partial<SourceMapping> | undefined;
  try {
    entry = map.findEntry(line - 1, column - 1) as Partial<SourceMapping>;
  } catch {
    return null;
  }
  // Node 20 answers {} when nothing maps. A mapping from an earlier bundle line means this line has no
  // mapping of its own (esbuild's runtime helpers): not a position in the user's file.
  if (!entry || typeof entry.originalLine !== "number" || typeof entry.originalColumn !== "number") return null;
  if (entry.generatedLine !== line - 1) return null;
  if (typeof entry.originalSource === "string" && entry.originalSource.startsWith(SHIM_SOURCE_PREFIX)) return null;
  return { line: entry.originalLine + 1, column: entry.originalColumn + 1 };
}

/**
 * Where in the pipeline file a guest error happened: the first frame of its stack that maps into the
 * user's file (frames in esbuild helpers are skipped), or null.
 */
export function locateGuestError(
  stack: unknown,
  sourceMap: string | SourceMapPayload | SourceMap,
  filename: string = BUNDLE_FILENAME,
): SourcePosition | null {
  const frames = guestStackFrames(stack, filename);
  if (frames.length === 0) return null;
  const map = toSourceMap(sourceMap);
  if (map === null) return null;
  for (const frame of frames) {
    const position = mapBundlePosition(map, frame.line, frame.column);
    if (position !== null) return position;
  }
  return null;
}
