import { describe, expect, it } from "vitest";
import { checkConnector, checkEgress, checkSecret, cidrContains, HOSTED_DEFAULT_POLICY, LOCAL_POLICY, parseIp, validatePolicy, wallSecFor, type Policy } from "../../policies";

const policy = (egress: Policy["egress"]): Policy => ({ ...HOSTED_DEFAULT_POLICY, egress });

describe("tenant policies", () => {
  it("ship a valid permissive local policy and a valid deny-by-default hosted policy", () => {
    expect(validatePolicy(LOCAL_POLICY)).toEqual([]);
    expect(validatePolicy(HOSTED_DEFAULT_POLICY)).toEqual([]);
    expect(checkConnector(LOCAL_POLICY, "postgres")).toBeNull();
    expect(checkConnector(HOSTED_DEFAULT_POLICY, "postgres")?.rule).toBe("connectors");
    expect(checkSecret(HOSTED_DEFAULT_POLICY, "DSN")?.rule).toBe("secrets");
    expect(checkEgress(LOCAL_POLICY, { host: "db.example.com", port: 5432, addresses: ["10.1.2.3"] })).toBeNull();
    expect(checkEgress(HOSTED_DEFAULT_POLICY, { host: "127.0.0.1", port: 5432, addresses: ["127.0.0.1"] })?.rule).toBe("egress");
  });

  it("name every problem of an invalid policy document", () => {
    expect(validatePolicy(null)).toEqual(["policy must be an object"]);
    const problems = validatePolicy({ connectors: "all", secrets: [], duckdbAnyPath: 1, egress: [{ ports: [80] }], limits: { memoryMb: -1 } });
    expect(problems).toContain("connectors must be an array of strings");
    expect(problems).toContain("duckdbAnyPath must be a boolean");
    expect(problems.some((p) => p.startsWith("egress must be"))).toBe(true);
    expect(problems).toContain("limits.memoryMb must be a positive number");
  });

  it("match egress by exact host, wildcard suffix and port", () => {
    const p = policy([{ host: "db.internal", ports: [5432] }, { host: "*.example.com" }]);
    expect(checkEgress(p, { host: "db.internal", port: 5432, addresses: ["10.0.0.5"] })).toBeNull();
    expect(checkEgress(p, { host: "db.internal", port: 5433, addresses: ["10.0.0.5"] })?.rule).toBe("egress");
    expect(checkEgress(p, { host: "API.Example.com.", port: 443, addresses: ["93.184.216.34"] })).toBeNull();
    expect(checkEgress(p, { host: "example.com", port: 443, addresses: ["93.184.216.34"] })?.rule).toBe("egress");
    expect(checkEgress(p, { host: "evilexample.com", port: 443, addresses: ["1.2.3.4"] })?.rule).toBe("egress");
  });

  it("match egress by CIDR only when every resolved address is inside it", () => {
    const p = policy([{ cidr: "10.0.0.0/8" }, { cidr: "::1/128", ports: [5432] }]);
    expect(checkEgress(p, { host: "db", port: 1, addresses: ["10.200.0.1"] })).toBeNull();
    expect(checkEgress(p, { host: "db", port: 1, addresses: ["10.200.0.1", "192.168.0.1"] })?.rule).toBe("egress");
    expect(checkEgress(p, { host: "db", port: 1, addresses: [] })?.rule).toBe("egress");
    expect(checkEgress(p, { host: "localhost", port: 5432, addresses: ["::1"] })).toBeNull();
    expect(checkEgress(p, { host: "localhost", port: 80, addresses: ["::1"] })?.rule).toBe("egress");
  });

  it("parse IPv4, IPv6 and IPv4-mapped addresses and compare prefixes", () => {
    expect(parseIp("127.0.0.1")).toEqual([127, 0, 0, 1]);
    expect(parseIp("::ffff:10.0.0.1")).toEqual([10, 0, 0, 1]);
    expect(parseIp("fe80::1%eth0")?.length).toBe(16);
    expect(parseIp("300.1.1.1")).toBeNull();
    expect(parseIp("1::2::3")).toBeNull();
    expect(cidrContains("192.168.0.0/16", "192.168.44.1")).toBe(true);
    expect(cidrContains("192.168.0.0/17", "192.168.200.1")).toBe(false);
    expect(cidrContains("fd00::/8", "fd12:3456::1")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "::1")).toBe(false);
    expect(cidrContains("10.0.0.0/99", "10.0.0.1")).toBe(false);
  });

  it("cap a pipeline's own timeout by the policy and default to the policy's wall clock", () => {
    expect(wallSecFor(LOCAL_POLICY.limits, null)).toBe(LOCAL_POLICY.limits.wallSec);
    expect(wallSecFor(LOCAL_POLICY.limits, 30)).toBe(30);
    expect(wallSecFor(HOSTED_DEFAULT_POLICY.limits, 10 * 24 * 3600)).toBe(HOSTED_DEFAULT_POLICY.limits.maxWallSec);
  });
});
