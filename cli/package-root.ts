/**
 * Where the running `tau` was installed from. The bundled CLI lives at `<root>/dist/cli/bin.js`; rather
 * than assume that depth, walk up from this file to the first package.json named "tau".
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TauError } from "../server/contract";

export interface TauPackage {
  root: string;
  version: string;
}

export function findTauPackage(start: string = __dirname): TauPackage {
  let dir = start;
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
        if (pkg.name === "tau") return { root: dir, version: typeof pkg.version === "string" ? pkg.version : "0.0.0" };
      } catch {
        // An unreadable package.json on the way up is not Tau's; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new TauError("TAU_E_INTERNAL", "tau cannot find its own package.json.", { searchedFrom: start });
    }
    dir = parent;
  }
}
