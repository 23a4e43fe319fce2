import { parseIp } from "./egress";
import type { Policy, PolicyLimits } from "./policy";

/** Why an operation was refused; the sandbox turns this into TAU_E_POLICY_DENIED. */
export interface Denial {
  rule: string;
  message: string;
}

const allows = (list: readonly string[], value: string): boolean => list.includes("*") || list.includes(value);

export function checkConnector(policy: Policy, kind: string): Denial | null {
  return allows(policy.connectors, kind)
    ? null
    : { rule: "connectors", message: `connector '${kind}' is not allowed by this tenant's policy (allowed: ${policy.connectors.join(", ") || "none"})` };
}

export function checkSecret(policy: Policy, name: string): Denial | null {
  return allows(policy.secrets, name)
    ? null
    : { rule: "secrets", message: `secret '${name}' is not readable under this tenant's policy` };
}

export function checkDuckdbPath(policy: Policy, insideHome: boolean): Denial | null {
  return policy.duckdbAnyPath || insideHome
    ? null
    : { rule: "duckdbAnyPath", message: "duckdb_local may only open files inside the tenant's data folder under this policy" };
}

/** The wall-clock deadline for a run: the pipeline's own timeoutSec, capped by the policy. */
export function wallSecFor(limits: PolicyLimits, timeoutSec: number | null | undefined): number {
  if (typeof timeoutSec === "number" && timeoutSec > 0) return Math.min(timeoutSec, limits.maxWallSec);
  return limits.wallSec;
}

/** Validates a policy document; returns the problems found (empty when valid). */
export function validatePolicy(value: unknown): string[] {
  const problems: string[] = [];
  if (!value || typeof value !== "object" || Array.isArray(value)) return ["policy must be an object"];
  const p = value as Record<string, unknown>;
  const stringList = (key: string): void => {
    const v = p[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) problems.push(`${key} must be an array of strings`);
  };
  stringList("connectors");
  if (!Array.isArray(p.egress) || p.egress.some((r) => !isEgressRule(r))) {
    problems.push("egress must be an array of {host?, cidr?, ports?} rules, each with a host or a cidr");
  }
  stringList("secrets");
  if (typeof p.duckdbAnyPath !== "boolean") problems.push("duckdbAnyPath must be a boolean");
  for (const key of Object.keys(p)) if (!POLICY_KEYS.includes(key)) problems.push(`${key} is not a policy field (allowed: ${POLICY_KEYS.join(", ")})`);
  if (Array.isArray(p.egress)) {
    for (const rule of p.egress as Array<Record<string, unknown>>) {
      if (rule && typeof rule.cidr === "string" && !validCidr(rule.cidr)) problems.push(`egress cidr '${rule.cidr}' is not an address/prefix`);
    }
  }
  const limits = p.limits as Record<string, unknown> | undefined;
  if (!limits || typeof limits !== "object" || Array.isArray(limits)) {
    problems.push("limits must be an object");
  } else {
    for (const key of Object.keys(LIMIT_KEYS)) {
      const v = limits[key];
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) problems.push(`limits.${key} must be a positive number`);
      else if (key === "concurrentRuns" && !Number.isInteger(v)) problems.push("limits.concurrentRuns must be an integer");
    }
    for (const key of Object.keys(limits)) if (!(key in LIMIT_KEYS)) problems.push(`limits.${key} is not a limit`);
  }
  return problems;
}

const POLICY_KEYS = ["connectors", "egress", "secrets", "duckdbAnyPath", "limits"];

function validCidr(text: string): boolean {
  const slash = text.indexOf("/");
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === null) return false;
  if (slash < 0) return true;
  const bits = Number(text.slice(slash + 1));
  return /^\d{1,3}$/.test(text.slice(slash + 1)) && bits <= address.length * 8;
}

export const LIMIT_KEYS: Record<keyof PolicyLimits, true> = {
  memoryMb: true,
  wallSec: true,
  maxWallSec: true,
  cpuSec: true,
  logLineBytes: true,
  logBytesPerRun: true,
  resultBytes: true,
  bridgeBytes: true,
  jsonDepth: true,
  extractRows: true,
  concurrentRuns: true,
};

function isEgressRule(value: unknown): boolean {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  const known = Object.keys(r).every((k) => k === "host" || k === "cidr" || k === "ports");
  const hasTarget = typeof r.host === "string" || typeof r.cidr === "string";
  const portsOk = r.ports === undefined || (Array.isArray(r.ports) && r.ports.every((p) => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536));
  return known && hasTarget && portsOk;
}
