import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TauError } from "../../server/contract";
import { compileDaemonOptions } from "../../server";
import { compileWorkerOptions } from "../../server/workers/command";

const KEY = randomBytes(32).toString("hex");
const DB = "postgres://tau@127.0.0.1:5432/tau";

function optionError(fn: () => unknown): { code: string; option: unknown } {
  try {
    fn();
  } catch (err) {
    if (err instanceof TauError) return { code: err.code, option: err.details.option };
    throw err;
  }
  throw new Error("no error");
}

describe("workers options", () => {
  it("--runs-on workers needs TAU_DATABASE_URL and TAU_SECRET_KEY, and then hands up to 256 runs to the queue", () => {
    expect(optionError(() => compileDaemonOptions(["--runs-on", "workers"], { TAU_SECRET_KEY: KEY }))).toEqual({ code: "TAU_E_DAEMON_OPTIONS_INVALID", option: "TAU_RUNS_ON" });
    expect(optionError(() => compileDaemonOptions(["--runs-on", "workers"], { TAU_DATABASE_URL: DB }))).toEqual({ code: "TAU_E_DAEMON_OPTIONS_INVALID", option: "TAU_SECRET_KEY" });
    const o = compileDaemonOptions([], { TAU_RUNS_ON: "workers", TAU_DATABASE_URL: DB, TAU_SECRET_KEY: KEY });
    expect({ runsOn: o.runsOn, concurrency: o.concurrency }).toEqual({ runsOn: "workers", concurrency: 256 });
    expect(compileDaemonOptions(["--runs-on", "workers", "--concurrency", "24"], { TAU_DATABASE_URL: DB, TAU_SECRET_KEY: KEY }).concurrency).toBe(24);
  });

  it("refuses an unknown --runs-on value, naming the flag", () => {
    expect(optionError(() => compileDaemonOptions(["--runs-on", "cloud"], {}))).toEqual({ code: "TAU_E_DAEMON_OPTIONS_INVALID", option: "--runs-on" });
  });

  it("taud worker: capacity defaults to twice the executors, the lease to 15 s; flags and variables set them", () => {
    const env = { TAU_DATABASE_URL: DB, TAU_SECRET_KEY: KEY };
    expect(compileWorkerOptions(["--executors", "3"], env)).toMatchObject({ executors: 3, capacity: 6, workerLeaseSec: 15, databaseUrl: DB });
    expect(compileWorkerOptions(["--capacity", "5"], { ...env, TAU_WORKER_LEASE_SEC: "30" })).toMatchObject({ capacity: 5, workerLeaseSec: 30 });
    expect(optionError(() => compileWorkerOptions(["--lease-sec", "1"], env))).toEqual({ code: "TAU_E_DAEMON_OPTIONS_INVALID", option: "--lease-sec" });
  });

  it("taud worker needs TAU_DATABASE_URL and TAU_SECRET_KEY but not the API's hosted-mode keys", () => {
    expect(optionError(() => compileWorkerOptions([], { TAU_SECRET_KEY: KEY }))).toEqual({ code: "TAU_E_DAEMON_OPTIONS_INVALID", option: "TAU_DATABASE_URL" });
    expect(optionError(() => compileWorkerOptions([], { TAU_DATABASE_URL: DB }))).toEqual({ code: "TAU_E_DAEMON_OPTIONS_INVALID", option: "TAU_SECRET_KEY" });
    expect(compileWorkerOptions([], { TAU_DATABASE_URL: DB, TAU_SECRET_KEY: KEY, TAU_MODE: "hosted" }).databaseUrl).toBe(DB);
  });
});
