import type { Denial } from "./evaluate";
import type { EgressRule, Policy } from "./policy";

/** A destination as the host sees it after DNS resolution. */
export interface Destination {
  host: string;
  port: number;
  /** The addresses `host` resolved to (an IP literal resolves to itself). */
  addresses: string[];
}

/**
 * Whether the policy lets a connector reach `dest`. Pure: the caller resolves the name first (and must
 * connect to one of the checked addresses, not resolve again, or a rebinding DNS answer slips through).
 */
export function checkEgress(policy: Policy, dest: Destination): Denial | null {
  const host = dest.host.toLowerCase().replace(/\.$/, "");
  for (const rule of policy.egress) {
    if (rule.ports && !rule.ports.includes(dest.port)) continue;
    if (rule.host !== undefined && hostMatches(rule.host, host)) return null;
    if (rule.cidr !== undefined && dest.addresses.length > 0 && dest.addresses.every((a) => cidrContains(rule.cidr!, a))) return null;
  }
  return {
    rule: "egress",
    message: `connecting to ${dest.host}:${dest.port} is not allowed by this tenant's egress policy`,
  };
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p === "*") return true;
  if (p.startsWith("*.")) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

/** Whether `address` (IPv4 or IPv6 text) lies inside `cidr`. Malformed input never matches. */
export function cidrContains(cidr: string, address: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const a = parseIp(address);
  const b = parseIp(base ?? "");
  if (!a || !b || a.length !== b.length) return false;
  const bits = bitsText === undefined ? a.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  for (let i = 0; i < a.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) break;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

/** Parses an IPv4 or IPv6 address to bytes (IPv4-mapped IPv6 becomes IPv4); null when malformed. */
export function parseIp(text: string): number[] | null {
  const t = text.trim().replace(/^\[|\]$/g, "").split("%")[0];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) {
    const parts = t.split(".").map(Number);
    return parts.every((n) => n <= 255) ? parts : null;
  }
  if (!t.includes(":")) return null;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(t);
  if (mapped) return parseIp(mapped[1]);
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const group = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      const n = parseInt(g, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const head = group(halves[0]);
  const tail = halves.length === 2 ? group(halves[1]) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 16 ? head : null;
  const fill = 16 - head.length - tail.length;
  return fill < 0 ? null : [...head, ...new Array(fill).fill(0), ...tail];
}

export type { EgressRule };
