import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileDaemonOptions } from "../../server";

describe("taud options", () => {
  it("defaults to ~/.tau, port 7070 on 127.0.0.1, two executors and twice as many concurrent runs", () => {
    expect(compileDaemonOptions([], {})).toEqual({
      home: join(homedir(), ".tau"),
      port: 7070,
      bind: "127.0.0.1",
      executors: 2,
      concurrency: 4,
      tenantConcurrency: 4,
      maxQueued: 10_000,
      shutdownGraceMs: 10_000,
      logLevel: "info",
      maxSourceBytes: 1024 * 1024,
      wsMaxBufferedBytes: 8 * 1024 * 1024,
      mode: "local",
      adminTenant: "admin",
      jwtAlg: "HS256",
      jwtSecret: null,
      jwtPublicKey: null,
      jwtPrivateKey: null,
      secretKey: null,
      databaseUrl: null,
      runsOn: "local",
      capacity: 4,
      workerLeaseSec: 15,
    });
  });

  it("reads TAU_* variables, lets flags win over them and programmatic options over both", () => {
    const env = { TAU_HOME: "/srv/tau", TAU_PORT: "8080", TAU_EXECUTORS: "3", TAU_BIND: "0.0.0.0", HOME: "/ignored" };
    const o = compileDaemonOptions(["--port", "9090", "--executors=4"], env, { bind: "::1" });
    expect(o).toMatchObject({ home: "/srv/tau", port: 9090, executors: 4, concurrency: 8, bind: "::1" });
  });

  it("resolves a relative home against the working directory and accepts port 0", () => {
    expect(compileDaemonOptions(["--home", "rel/dir", "--port", "0"], {})).toMatchObject({ home: resolve("rel/dir"), port: 0 });
  });

  it("names the offending flag or variable in TAU_E_DAEMON_OPTIONS_INVALID", () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [["--port", "70000"], {}, "--port"],
      [["--port"], {}, "--port"],
      [["--verbose"], {}, "--verbose"],
      [[], { TAU_EXECUTORS: "two" }, "TAU_EXECUTORS"],
      [[], { TAU_LOG_LEVEL: "loud" }, "TAU_LOG_LEVEL"],
      [["--executors", "0"], {}, "--executors"],
    ];
    for (const [argv, env, option] of cases) {
      expect(() => compileDaemonOptions(argv, env), option).toThrow(expect.objectContaining({ code: "TAU_E_DAEMON_OPTIONS_INVALID", details: { option } }));
    }
  });
});
