/**
 * What the executor says about its own failures must not describe the host: no stack frames, no paths of the
 * installation (package root, node_modules, the node binary) and — when the tenant may not choose paths —
 * not the tenant data folder's real location either. Applied to every error answer and run error.
 */
import { dirname, sep } from "node:path";
import { mapJsonStrings } from "../json-guard";
import { findPackageRoot } from "../package-root";

export interface HostPathOptions {
  /** Also hide this folder (the tenant's data dir), shown as `<dataDir>`. */
  dataDir?: string;
}

// "    at fn (/path/file.js:1:2)", "    at /path/file.js:1:2", "    at new X (<anonymous>)", "    at async Promise.all (index 0)"
const FRAME_LINE = /^\s*at\s.*(?::\d+:\d+\)?|\((?:native|<anonymous>|index \d+)\))\s*$/;
const NODE_MODULES_PATH = /(?:[A-Za-z]:)?[^\s'"`()]*[\\/]node_modules[\\/][^\s'"`():]*/g;

function installPaths(): string[] {
  const paths = new Set<string>();
  try {
    paths.add(findPackageRoot());
  } catch {
    // not found: nothing to hide
  }
  paths.add(dirname(process.execPath));
  const cwd = process.cwd();
  if (cwd !== sep && cwd.length > 1) paths.add(cwd);
  // Longest first: a path inside another is replaced whole.
  return [...paths].filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
}

let cachedInstallPaths: string[] | undefined;

/** Removes stack frames and host paths from a message. */
export function stripHostDetails(text: string, options: HostPathOptions = {}): string {
  cachedInstallPaths ??= installPaths();
  let out = text
    .split("\n")
    .filter((line) => !FRAME_LINE.test(line))
    .join("\n");
  if (options.dataDir && options.dataDir.length > 1) out = out.split(options.dataDir).join("<dataDir>");
  out = out.replace(NODE_MODULES_PATH, "<tau>");
  for (const p of cachedInstallPaths) out = out.split(p).join("<tau>");
  return out;
}

/** Applies `stripHostDetails` to every string in a JSON-like value (iteratively). */
export function stripHostDetailsDeep<T>(value: T, options: HostPathOptions = {}): T {
  return mapJsonStrings(value, (text) => stripHostDetails(text, options));
}
