/**
 * Finds Tau's own package folder (where package.json names "tau"), walking up from this module: it runs
 * from source under vitest/tsx (sandbox/) and bundled (dist/server/bin.js, dist/sandbox/executor.js).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TauError } from "../server/contract";

let cached: string | null = null;

export function findPackageRoot(start: string = __dirname): string {
  if (cached !== null && start === __dirname) return cached;
  let dir = start;
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "tau") {
          if (start === __dirname) cached = dir;
          return dir;
        }
      } catch {
        // An unreadable or foreign package.json: keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new TauError("TAU_E_INTERNAL", `Cannot find Tau's package folder above ${start}.`, { start });
    }
    dir = parent;
  }
}

/** dist/sdk-types: the SDK declarations deploy type-checks against (built by `npm run build`). */
export function sdkTypesDir(root: string = findPackageRoot()): string {
  return join(root, "dist", "sdk-types");
}
