import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, errorDocument, oneDocument, ROOT, tau } from "./helpers/tau-cli";

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let downHost: string;

beforeAll(async () => {
  assertBuilt();
  downHost = `http://127.0.0.1:${await closedPort()}`;
});

describe("tau without a daemon", () => {
  it("reports an unreachable daemon as TAU_E_DAEMON_UNREACHABLE with the host in details, exit 4", async () => {
    for (const args of [["list"], ["status"], ["inspect", "x"], ["run", "x"], ["logs", "x", "--follow"]]) {
      const result = await tau(args, { env: { TAU_HOST: downHost } });
      expect(result.code, args.join(" ")).toBe(4);
      const error = errorDocument(result, "TAU_E_DAEMON_UNREACHABLE");
      expect(error.details.host).toBe(downHost);
      expect(error.details.cause).toBe("ECONNREFUSED");
    }
  });

  it("uses http://127.0.0.1:7070 when TAU_HOST is unset", async () => {
    const result = await tau(["version"]);
    const doc = oneDocument(result, "version.schema.json");
    expect(doc.host).toBe("http://127.0.0.1:7070");
  });

  it("still answers `version` with the CLI's version and why the daemon's is missing, exit 0", async () => {
    const result = await tau(["version"], { env: { TAU_HOST: downHost } });
    expect(result.code).toBe(0);
    const doc = oneDocument(result, "version.schema.json");
    expect(doc.cli).toMatchObject({ name: "tau", version: "0.1.0", apiVersion: "1" });
    expect(doc.daemon).toBeNull();
    expect(doc.compatible).toBeNull();
    expect(doc.daemonError.code).toBe("TAU_E_DAEMON_UNREACHABLE");
  });

  it("rejects a TAU_HOST that is not an http URL as a usage error, exit 2", async () => {
    const result = await tau(["list"], { env: { TAU_HOST: "not a url" } });
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_CLI_USAGE").details).toMatchObject({ env: "TAU_HOST" });
  });
});

describe("command-line errors", () => {
  it("prints an unknown command as TAU_E_CLI_USAGE JSON listing the commands, exit 2", async () => {
    const result = await tau(["frobnicate", "--now"]);
    expect(result.code).toBe(2);
    const error = errorDocument(result, "TAU_E_CLI_USAGE");
    expect(error.message).toBe('Unknown command "frobnicate".');
    expect(error.details.commands).toEqual(expect.arrayContaining(["deploy", "run", "inspect", "logs", "init", "version"]));
  });

  it("treats no command at all as a usage error rather than printing help text", async () => {
    const result = await tau([]);
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_CLI_USAGE").message).toBe("No command given.");
  });

  it("names the command and shows its usage for a flag it does not accept", async () => {
    const result = await tau(["list", "--colour"]);
    expect(result.code).toBe(2);
    const error = errorDocument(result, "TAU_E_CLI_USAGE");
    expect(error.message).toMatch(/^tau list: /);
    expect(error.details.usage).toContain("tau list");
  });

  it("reports a missing argument as a usage error", async () => {
    const result = await tau(["run"]);
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_CLI_USAGE").message).toBe("tau run: Not enough positional arguments.");
  });

  it("rejects a --limit that is not a positive integer before asking the daemon", async () => {
    const result = await tau(["errors", "--limit", "ten"], { env: { TAU_HOST: downHost } });
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_CLI_USAGE").details).toMatchObject({ flag: "--limit", value: "ten" });
  });

  it("rejects --last-run together with --run", async () => {
    const result = await tau(["inspect", "x", "--last-run", "--run", "r1"], { env: { TAU_HOST: downHost } });
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_CLI_USAGE").details.flags).toEqual(["--last-run", "--run"]);
  });

  it("rejects --params that is not JSON with TAU_E_PARAMS_INVALID, exit 2", async () => {
    const result = await tau(["run", "x", "--params", "{day: 1}"], { env: { TAU_HOST: downHost } });
    expect(result.code).toBe(2);
    expect(errorDocument(result, "TAU_E_PARAMS_INVALID").details.params).toBe("{day: 1}");
  });

  it("rejects --params that is JSON but not an object", async () => {
    for (const params of ["[1,2]", "null", "42", '"x"']) {
      const result = await tau(["run", "x", "--params", params], { env: { TAU_HOST: downHost } });
      expect(result.code, params).toBe(2);
      errorDocument(result, "TAU_E_PARAMS_INVALID");
    }
  });

  it("reports a missing pipeline file as TAU_E_FILE_NOT_FOUND with its absolute path, exit 2", async () => {
    const result = await tau(["deploy", "no/such/pipeline.ts"], { env: { TAU_HOST: downHost } });
    expect(result.code).toBe(2);
    const error = errorDocument(result, "TAU_E_FILE_NOT_FOUND");
    expect(error.details.path).toBe(`${ROOT}/no/such/pipeline.ts`);
  });

  it("prints human usage text for --help and exits 0", async () => {
    const top = await tau(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("tau deploy");
    const run = await tau(["run", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--detach");
  });
});
