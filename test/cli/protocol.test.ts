/**
 * tau against a loopback stand-in for taud (helpers/fake-daemon.ts: real HTTP, real routes and shapes) for
 * what the real daemon cannot be made to do on demand: answer 5xx or something that is not Tau JSON,
 * answer a waiting run early, require a token. The happy paths run against the real daemon in
 * daemon.test.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDaemon, type FakeDaemon } from "./helpers/fake-daemon";
import { assertBuilt, errorDocument, oneDocument, removeTempDirs, tau, tempDir } from "./helpers/tau-cli";

const PIPELINE = `import { pipeline } from "tau";
export default pipeline({ name: "orders_sync" }, async (ctx) => ({ ok: true }));
`;

let daemon: FakeDaemon;
let work: string;

beforeAll(async () => {
  assertBuilt();
  daemon = await startFakeDaemon();
  work = tempDir("tau-cli-");
  writeFileSync(join(work, "orders_sync.ts"), PIPELINE);
});

afterAll(async () => {
  await daemon?.close();
  removeTempDirs();
});

describe("answers that are not what tau expects", () => {
  it("turns a 5xx into the daemon's error and exit 4", async () => {
    const result = await tau(["status"], { env: { TAU_HOST: `${daemon.url}/broken` } });
    expect(result.code).toBe(4);
    errorDocument(result, "TAU_E_INTERNAL");
  });

  it("turns a non-JSON answer into TAU_E_DAEMON_RESPONSE_INVALID, exit 4", async () => {
    const result = await tau(["status"], { env: { TAU_HOST: `${daemon.url}/html` } });
    expect(result.code).toBe(4);
    const error = errorDocument(result, "TAU_E_DAEMON_RESPONSE_INVALID");
    expect(error.details).toMatchObject({ status: 200, contentType: "text/html", bodyStart: "<html>not tau</html>" });
  });

  it("turns an error without Tau's shape into TAU_E_DAEMON_RESPONSE_INVALID", async () => {
    const result = await tau(["status"], { env: { TAU_HOST: `${daemon.url}/foreign` } });
    expect(result.code).toBe(4);
    expect(errorDocument(result, "TAU_E_DAEMON_RESPONSE_INVALID").details.status).toBe(404);
  });

  it("still answers `version` when the daemon's answer is garbage, naming the problem", async () => {
    const result = await tau(["version"], { env: { TAU_HOST: `${daemon.url}/html` } });
    expect(result.code).toBe(0);
    expect(oneDocument(result, "version.schema.json").daemonError.code).toBe("TAU_E_DAEMON_RESPONSE_INVALID");
  });
});

describe("waiting for a run", () => {
  it("keeps waiting by polling when the daemon answers before the run ends", async () => {
    const impatient = await startFakeDaemon({ maxWaitMs: 50 });
    try {
      expect((await tau(["deploy", "orders_sync.ts"], { env: { TAU_HOST: impatient.url }, cwd: work })).code).toBe(0);
      const result = await tau(["run", "orders_sync", "--params", '{"delayMs": 100}'], { env: { TAU_HOST: impatient.url } });
      expect(result.code).toBe(0);
      expect(oneDocument(result, "run.schema.json").status).toBe("succeeded");
      expect(result.stderr).toContain("waiting for it to end");
    } finally {
      await impatient.close();
    }
  });

  it("stops polling at --timeout and says on stderr how to follow the run", async () => {
    expect((await tau(["deploy", "orders_sync.ts"], { env: { TAU_HOST: daemon.url }, cwd: work })).code).toBe(0);
    const result = await tau(["run", "orders_sync", "--timeout", "0.3", "--params", '{"delayMs": 1000}'], { env: { TAU_HOST: daemon.url } });
    expect(result.code).toBe(1);
    const run = oneDocument(result, "run.schema.json");
    expect(["queued", "running"]).toContain(run.status);
    expect(result.stderr).toContain(`tau logs orders_sync --run ${run.id} --follow`);
  });
});

describe("TAU_TOKEN", () => {
  it("is sent as a bearer token, so a daemon that requires it answers", async () => {
    const guarded = await startFakeDaemon({ token: "s3cret" });
    try {
      const withToken = await tau(["list"], { env: { TAU_HOST: guarded.url, TAU_TOKEN: "s3cret" } });
      expect(withToken.code).toBe(0);
      oneDocument(withToken, "list.schema.json");
      const without = await tau(["list"], { env: { TAU_HOST: guarded.url } });
      expect(without.code).toBe(3);
      errorDocument(without, "TAU_E_REQUEST_INVALID");
    } finally {
      await guarded.close();
    }
  });
});
