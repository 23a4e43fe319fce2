import { describe, expect, it } from "vitest";
import { validateMeta, withRunControlDefaults } from "../../sandbox";
import type { PipelineMeta } from "../../sandbox/types";

describe("the run-control fields of a pipeline's meta", () => {
  it("default to no retries, a 10 s backoff base and one run at a time", () => {
    const result = validateMeta({ name: "p" });
    expect(result.ok && result.meta).toMatchObject({ retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 });
  });

  it("accept what they document", () => {
    const result = validateMeta({ name: "p", retries: 5, retryDelaySec: 0.5, retryOn: ["TAU_E_PIPELINE_ERROR", "TAU_E_PIPELINE_ERROR"], maxConcurrentRuns: 4 });
    expect(result.ok && result.meta).toMatchObject({ retries: 5, retryDelaySec: 0.5, retryOn: ["TAU_E_PIPELINE_ERROR"], maxConcurrentRuns: 4 });
  });

  it.each([
    [{ retries: -1 }, "retries"],
    [{ retries: 1.5 }, "retries"],
    [{ retries: 101 }, "retries"],
    [{ retries: "3" }, "retries"],
    [{ retryDelaySec: -1 }, "retryDelaySec"],
    [{ retryDelaySec: Number.POSITIVE_INFINITY }, "retryDelaySec"],
    [{ retryDelaySec: 100_000 }, "retryDelaySec"],
    [{ retryOn: "TAU_E_PIPELINE_ERROR" }, "retryOn"],
    [{ retryOn: ["TAU_E_NOT_A_CODE"] }, "retryOn"],
    [{ retryOn: ["TAU_E_RUN_CANCELLED"] }, "retryOn"],
    [{ maxConcurrentRuns: 0 }, "maxConcurrentRuns"],
    [{ maxConcurrentRuns: 2.5 }, "maxConcurrentRuns"],
    [{ maxConcurrentRuns: 1001 }, "maxConcurrentRuns"],
  ])("refuse %j with TAU_E_DEPLOY_META_INVALID naming the field", (fields, field) => {
    const result = validateMeta({ name: "p", ...fields });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({ code: "TAU_E_DEPLOY_META_INVALID", details: { field } });
    expect(!result.ok && result.error.message).toContain(`meta.${field}`);
  });

  it("suggest the field a misspelt key meant", () => {
    const result = validateMeta({ name: "p", retires: 3 });
    expect(!result.ok && result.error.message).toContain('did you mean "retries"');
  });

  it("are filled in for a version stored before they existed", () => {
    const old = { name: "p", description: "", schedule: null, tags: [], dependsOn: [], timeoutSec: 60 } as unknown as PipelineMeta;
    expect(withRunControlDefaults(old)).toEqual({ ...old, retries: 0, retryDelaySec: 10, retryOn: [], maxConcurrentRuns: 1 });
  });
});
