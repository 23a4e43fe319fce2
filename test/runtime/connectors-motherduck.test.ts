/**
 * motherduck on the host side. There is no network here: these tests check the `md:` path built from the
 * options, the egress policy check that comes before DuckDB is asked to connect, and how DuckDB's real
 * failure to fetch its motherduck extension offline is reported. No MotherDuck service is reached.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LOCAL_POLICY, type Policy } from "../../policies";
import { ConnectorHost, DuckDbInstanceCache, MotherDuckDriver, convertMotherDuckError, motherDuckPath, type ConnectorContext } from "../../runtime/connectors";

const dataDir = mkdtempSync(join(tmpdir(), "tau-motherduck-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const TOKEN = "eyJhbGciOi.fake-token_value.signature";
const hosts: ConnectorHost[] = [];
afterEach(() => hosts.splice(0).forEach((h) => h.close()));

function hostWith(addresses: string[]): { host: ConnectorHost; lookups: string[]; instances: DuckDbInstanceCache } {
  const instances = new DuckDbInstanceCache();
  const lookups: string[] = [];
  const driver = new MotherDuckDriver(instances, async (name) => {
    lookups.push(name);
    return addresses;
  });
  const host = new ConnectorHost({ duckdbInstances: instances, drivers: [driver] });
  hosts.push(host);
  return { host, lookups, instances };
}

const ctx = (policy: Policy): ConnectorContext => ({ dataDir, policy, limits: policy.limits });

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; hint: string; details: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

describe("motherduck options", () => {
  it("builds the md: path with the token, in saas_mode when the policy does not grant duckdbAnyPath", () => {
    expect(motherDuckPath({ database: "my_db", token: TOKEN }, false)).toBe(`md:my_db?motherduck_token=${TOKEN}`);
    expect(motherDuckPath({ database: "my_db", token: TOKEN }, true)).toBe(`md:my_db?motherduck_token=${TOKEN}&saas_mode=true`);
  });

  it("refuses a missing token, a database name or token that could smuggle options, and unknown options", () => {
    const code = (o: Record<string, unknown>): string => {
      try {
        motherDuckPath(o, false);
        return "accepted";
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    expect(code({ database: "my_db" })).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(code({ database: "my_db?saas_mode=false", token: TOKEN })).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(code({ database: "my_db", token: `${TOKEN}&saas_mode=false` })).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(code({ database: "my_db", token: TOKEN, path: "/etc" })).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });
});

describe("motherduck policy", () => {
  it("a policy without egress to api.motherduck.com:443 refuses the open before DuckDB is asked to connect", async () => {
    const { host, lookups, instances } = hostWith(["198.51.100.7"]);
    const policy: Policy = { ...LOCAL_POLICY, connectors: ["motherduck"], egress: [{ host: "*.example.com" }, { host: "api.motherduck.com", ports: [80] }] };
    const err = await failure(host.open("motherduck", { database: "my_db", token: TOKEN }, ctx(policy)));
    expect(err).toMatchObject({ code: "TAU_E_POLICY_DENIED", details: { rule: "egress", host: "api.motherduck.com", port: 443 } });
    expect(lookups).toEqual(["api.motherduck.com"]);
    expect(instances.openFiles()).toEqual([]);
  });

  it("a CIDR rule is matched against the addresses api.motherduck.com resolved to", async () => {
    const { host } = hostWith(["10.1.2.3"]);
    const policy: Policy = { ...LOCAL_POLICY, connectors: ["motherduck"], egress: [{ cidr: "192.168.0.0/16", ports: [443] }] };
    expect((await failure(host.open("motherduck", { database: "my_db", token: TOKEN }, ctx(policy)))).code).toBe("TAU_E_POLICY_DENIED");
  });
});

describe("motherduck errors", () => {
  it("offline, DuckDB's failure to fetch the motherduck extension is TAU_E_CONNECTOR_UNAVAILABLE with a hint, and the token is not in it", async () => {
    const { host, instances } = hostWith([]);
    const policy: Policy = { ...LOCAL_POLICY, egress: [{ host: "api.motherduck.com", ports: [443] }] };
    const err = await failure(host.open("motherduck", { database: "my_db", token: TOKEN }, ctx(policy)));
    expect(err.code).toBe("TAU_E_CONNECTOR_UNAVAILABLE");
    expect(err.message).toMatch(/motherduck extension/);
    expect(err.hint).toMatch(/extensions\.duckdb\.org/);
    expect(err.details).toMatchObject({ kind: "motherduck", extension: "motherduck" });
    expect(JSON.stringify(err)).not.toContain(TOKEN);
    expect(instances.openFiles()).toEqual([]);
  }, 30_000);

  it("a refused token becomes TAU_E_CONNECTOR_AUTH_FAILED and the token is redacted from the message", () => {
    const err = convertMotherDuckError(new Error(`IO Error: Failed to open md:my_db?motherduck_token=${TOKEN}: Unauthenticated: invalid token`), TOKEN);
    expect(err.code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).toContain("motherduck_token=[redacted]");
  });
});
