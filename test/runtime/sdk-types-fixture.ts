/**
 * The SDK declarations for tests: built from runtime/sdk with its own tsconfig into a temp folder named by
 * the sources' hash, once per source version and shared by every test worker. Tests then do not depend on
 * dist/, which a concurrent `npm run build` empties and refills.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const SDK = join(ROOT, "runtime", "sdk");

export function builtSdkTypes(): string {
  const hash = createHash("sha256");
  // Recursive: the connector factories live in runtime/sdk/connectors/.
  for (const name of (readdirSync(SDK, { recursive: true }) as string[]).sort()) {
    if (/\.(ts|json)$/.test(name)) hash.update(name).update("\0").update(readFileSync(join(SDK, name)));
  }
  const dir = join(tmpdir(), `tau-test-sdk-types-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(join(dir, "index.d.ts")) && existsSync(join(dir, "connectors.d.ts"))) return dir;
  const staging = mkdtempSync(join(tmpdir(), "tau-test-sdk-types-staging-"));
  execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "runtime/sdk/tsconfig.json", "--outDir", staging], {
    cwd: ROOT,
    stdio: "pipe",
  });
  try {
    renameSync(staging, dir);
  } catch {
    // Another worker renamed its copy first; theirs is identical.
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}
