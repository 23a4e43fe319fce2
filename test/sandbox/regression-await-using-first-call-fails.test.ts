/**
 * Regression: a run hung until its deadline when a connector bound with `await using` made its first call
 * (the lazy open) inside a step that failed with a database error. The cause was the test build's
 * byte-counting wrapper of `deliver` (streams-build.ts), which passed on only the first (id, answer) pair of
 * a batched delivery — the executor batches answers that are ready in the same turn (step.end and
 * connector.close here), so the close was never answered. The run path must finish with the driver's error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorPool } from "../../sandbox/pool";
import { pipelineFile, policyWith, runSource, tempDir } from "./helpers";
import { buildPrivateExecutor, startPrivatePool, type PrivateBuild } from "./streams-build";

let built: PrivateBuild;
let pool: ExecutorPool;
const dir = tempDir();

beforeAll(async () => {
  built = await buildPrivateExecutor();
  pool = await startPrivatePool(built, 1);
});
afterAll(async () => {
  await pool?.close();
  built?.remove();
  dir.remove();
});

describe("a connector whose first call fails inside a step", () => {
  it("fails the run with the database's error instead of hanging until the deadline", async () => {
    const source = pipelineFile(
      [
        '  await using db = duckdb_local(":memory:");',
        '  await ctx.step("read", async () => db.extract("SELECT * FROM missing_table"));',
      ].join("\n"),
    );
    const started = Date.now();
    const { outcome } = await runSource(pool, source, { dataDir: dir.path, policy: policyWith({ wallSec: 20 }) });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error.code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(outcome.error.step).toBe("read");
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
