import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { assertAccess, bearerToken, compileTokenConfig, issueToken, verifyToken, type Principal } from "../../server/auth";
import { TauError } from "../../server/contract";

const SECRET = "s".repeat(40);
const hs = compileTokenConfig({ algorithm: "HS256", secret: SECRET });
const now = Date.UTC(2026, 10, 26, 12, 0, 0);
const sec = Math.floor(now / 1000);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TauError);
    return (err as TauError).code;
  }
  throw new Error("expected a TauError");
}

describe("JWT bearer tokens", () => {
  it("issues and verifies an HS256 token with tenant, role and expiry", () => {
    const { token, expiresAt } = issueToken(hs, { tenant: "acme", role: "operator", ttlSec: 3600, subject: "ci" }, now);
    expect(expiresAt).toBe(now + 3600_000);
    expect(verifyToken(token, hs, now)).toEqual({ tenant: "acme", role: "operator", subject: "ci", expiresAt });
  });

  it("refuses alg none, a wrong key, an expired token and a token without exp", () => {
    const none = jwt.sign({ tenant: "acme", role: "admin", exp: sec + 60 }, "", { algorithm: "none" });
    expect(code(() => verifyToken(none, hs, now))).toBe("TAU_E_AUTH_INVALID");
    const wrongKey = jwt.sign({ tenant: "acme", role: "admin", exp: sec + 60 }, "x".repeat(40), { algorithm: "HS256" });
    expect(code(() => verifyToken(wrongKey, hs, now))).toBe("TAU_E_AUTH_INVALID");
    const expired = issueToken(hs, { tenant: "acme", role: "viewer", ttlSec: 60 }, now - 3600_000).token;
    expect(code(() => verifyToken(expired, hs, now))).toBe("TAU_E_AUTH_EXPIRED");
    const noExp = jwt.sign({ tenant: "acme", role: "viewer" }, SECRET, { algorithm: "HS256" });
    expect(code(() => verifyToken(noExp, hs, now))).toBe("TAU_E_AUTH_INVALID");
  });

  it("refuses a token whose tenant or role claim is missing or malformed", () => {
    for (const claims of [{ role: "admin" }, { tenant: "acme" }, { tenant: "Acme!", role: "admin" }, { tenant: "acme", role: "root" }]) {
      const token = jwt.sign({ ...claims, exp: sec + 60 }, SECRET, { algorithm: "HS256" });
      expect(code(() => verifyToken(token, hs, now))).toBe("TAU_E_AUTH_INVALID");
    }
  });

  it("pins the algorithm: an HS256 token signed with the RS256 public key is refused (key confusion)", () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pub = publicKey.export({ type: "spki", format: "pem" }).toString();
    const priv = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const rs = compileTokenConfig({ algorithm: "RS256", publicKey: pub, privateKey: priv });
    const good = issueToken(rs, { tenant: "acme", role: "viewer", ttlSec: 60 }, now).token;
    expect(verifyToken(good, rs, now).tenant).toBe("acme");
    // jsonwebtoken itself refuses to HMAC-sign with a PEM; forge the token by hand as an attacker would.
    const { createHmac } = require("node:crypto") as typeof import("node:crypto");
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ tenant: "acme", role: "admin", exp: sec + 60 })}`;
    const forged = `${head}.${createHmac("sha256", pub).update(head).digest("base64url")}`;
    expect(code(() => verifyToken(forged, rs, now))).toBe("TAU_E_AUTH_INVALID");
    // And verify-only (no private key) cannot issue.
    const verifyOnly = compileTokenConfig({ algorithm: "RS256", publicKey: pub });
    expect(code(() => issueToken(verifyOnly, { tenant: "acme", role: "viewer", ttlSec: 60 }))).toBe("TAU_E_AUTH_CONFIG");
  });

  it("verifies ES256 tokens", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const es = compileTokenConfig({
      algorithm: "ES256",
      publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    });
    const { token } = issueToken(es, { tenant: "beta", role: "admin", ttlSec: 60 }, now);
    expect(verifyToken(token, es, now)).toMatchObject({ tenant: "beta", role: "admin" });
  });

  it("validates its configuration at start: short HS256 secrets, unknown algorithms, missing public keys", () => {
    expect(code(() => compileTokenConfig({ algorithm: "HS256", secret: "short" }))).toBe("TAU_E_DAEMON_OPTIONS_INVALID");
    expect(code(() => compileTokenConfig({ algorithm: "none", secret: SECRET }))).toBe("TAU_E_DAEMON_OPTIONS_INVALID");
    expect(code(() => compileTokenConfig({ algorithm: "RS256" }))).toBe("TAU_E_DAEMON_OPTIONS_INVALID");
  });

  it("bounds the ttl and checks the claims it signs", () => {
    expect(code(() => issueToken(hs, { tenant: "acme", role: "viewer", ttlSec: 0 }))).toBe("TAU_E_REQUEST_INVALID");
    expect(code(() => issueToken(hs, { tenant: "acme", role: "viewer", ttlSec: 10 ** 9 }))).toBe("TAU_E_REQUEST_INVALID");
    expect(code(() => issueToken(hs, { tenant: "ACME", role: "viewer", ttlSec: 60 }))).toBe("TAU_E_REQUEST_INVALID");
  });

  it("parses the Authorization header strictly", () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(code(() => bearerToken("Basic dXNlcjpwYXNz"))).toBe("TAU_E_AUTH_INVALID");
    expect(code(() => bearerToken("Bearer a b"))).toBe("TAU_E_AUTH_INVALID");
  });

  it("orders roles: viewer reads, operator runs, admin manages", () => {
    const as = (role: Principal["role"]): Principal => ({ tenant: "acme", role, subject: null, expiresAt: now });
    expect(() => assertAccess(as("viewer"), "read")).not.toThrow();
    expect(code(() => assertAccess(as("viewer"), "operate"))).toBe("TAU_E_FORBIDDEN");
    expect(() => assertAccess(as("operator"), "operate")).not.toThrow();
    expect(code(() => assertAccess(as("operator"), "admin"))).toBe("TAU_E_FORBIDDEN");
    expect(() => assertAccess(as("admin"), "admin")).not.toThrow();
  });
});
