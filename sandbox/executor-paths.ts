/** Where the executor's entry and the guest runtime live in a built Tau (see scripts/build.mjs). */
import { join } from "node:path";
import { findPackageRoot } from "./package-root";

/** `<root>/dist/sandbox/executor.js`: the bundled executor process entry. */
export function defaultExecutorPath(root: string = findPackageRoot()): string {
  return join(root, "dist", "sandbox", "executor.js");
}

/** `<root>/dist/guest/runtime.js`: the guest runtime evaluated in every isolate. */
export function defaultGuestRuntimePath(root: string = findPackageRoot()): string {
  return join(root, "dist", "guest", "runtime.js");
}
