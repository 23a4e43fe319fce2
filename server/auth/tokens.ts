/**
 * Bearer tokens for hosted mode: JWTs verified with jsonwebtoken, the algorithm pinned by configuration (a
 * token's own `alg` header is never trusted: `none`, or HS256 signed with an RS256 public key, is refused
 * because only the configured algorithm is accepted). `exp` is required; claims `tenant` and `role`.
 */
import jwt from "jsonwebtoken";
import { TauError } from "../contract";

export type TokenAlgorithm = "HS256" | "RS256" | "ES256";
export const TOKEN_ALGORITHMS: readonly TokenAlgorithm[] = ["HS256", "RS256", "ES256"];

export type Role = "viewer" | "operator" | "admin";
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

/** What a verified token says about its bearer. */
export interface Principal {
  tenant: string;
  role: Role;
  /** The token's subject (who it was issued to), when present. */
  subject: string | null;
  /** Expiry, milliseconds since the epoch. */
  expiresAt: number;
}

export interface TokenConfig {
  algorithm: TokenAlgorithm;
  /** HS256: the shared secret. RS256/ES256: the public key (PEM) tokens are verified with. */
  verifyKey: string;
  /** HS256: the shared secret. RS256/ES256: the private key (PEM), needed only to issue tokens. */
  signKey: string | null;
  /** Allowed clock skew when checking exp/nbf, seconds. */
  clockToleranceSec: number;
}

const TENANT_RE = /^[a-z][a-z0-9_-]{0,63}$/;
const MAX_TOKEN_BYTES = 8192;
/** The longest a token may live: a leaked token must not be valid for years. */
export const MAX_TOKEN_TTL_SEC = 366 * 24 * 3600;

export function isTenantId(value: unknown): value is string {
  return typeof value === "string" && TENANT_RE.test(value);
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Validates the configuration once, at daemon start, so a bad key is a startup error and not a 500 later. */
export function compileTokenConfig(input: {
  algorithm?: string;
  secret?: string;
  publicKey?: string;
  privateKey?: string;
  clockToleranceSec?: number;
}): TokenConfig {
  const algorithm = (input.algorithm ?? "HS256") as TokenAlgorithm;
  if (!TOKEN_ALGORITHMS.includes(algorithm)) {
    throw configError("TAU_JWT_ALG", `TAU_JWT_ALG must be one of ${TOKEN_ALGORITHMS.join(", ")}.`);
  }
  const clockToleranceSec = input.clockToleranceSec ?? 5;
  if (algorithm === "HS256") {
    const secret = input.secret ?? "";
    // RFC 7518 §3.2: a key of the same size as the hash output (256 bits) or larger.
    if (Buffer.byteLength(secret) < 32) throw configError("TAU_JWT_SECRET", "TAU_JWT_SECRET must be at least 32 bytes for HS256.");
    return { algorithm, verifyKey: secret, signKey: secret, clockToleranceSec };
  }
  const publicKey = input.publicKey ?? "";
  if (!publicKey.includes("-----BEGIN")) {
    throw configError("TAU_JWT_PUBLIC_KEY", `TAU_JWT_PUBLIC_KEY must hold the PEM public key that verifies ${algorithm} tokens.`);
  }
  return { algorithm, verifyKey: publicKey, signKey: input.privateKey || null, clockToleranceSec };
}

/** `Authorization: Bearer <token>` → the token; null when the header is absent. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header === "") return null;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header.trim());
  if (!match) throw new TauError("TAU_E_AUTH_INVALID", "The Authorization header is not `Bearer <token>`.");
  return match[1]!;
}

/** Verifies a token and returns its principal; throws TAU_E_AUTH_INVALID or TAU_E_AUTH_EXPIRED. */
export function verifyToken(token: string, config: TokenConfig, nowMs = Date.now()): Principal {
  if (token.length > MAX_TOKEN_BYTES) throw new TauError("TAU_E_AUTH_INVALID", "The token is too large.");
  let payload: jwt.JwtPayload | string;
  try {
    payload = jwt.verify(token, config.verifyKey, {
      algorithms: [config.algorithm],
      clockTimestamp: Math.floor(nowMs / 1000),
      clockTolerance: config.clockToleranceSec,
    });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) {
      throw new TauError("TAU_E_AUTH_EXPIRED", undefined, { expiredAt: err.expiredAt.toISOString() });
    }
    // The library's message says which check failed (signature, algorithm, nbf, malformed); it holds no key.
    const reason = err instanceof Error ? err.message : "invalid token";
    throw new TauError("TAU_E_AUTH_INVALID", `The token was refused: ${reason}.`, { reason });
  }
  if (typeof payload !== "object" || payload === null) throw new TauError("TAU_E_AUTH_INVALID", "The token's payload is not a JSON object.");
  if (typeof payload.exp !== "number") throw new TauError("TAU_E_AUTH_INVALID", "The token has no `exp` claim; Tau requires tokens to expire.", { claim: "exp" });
  const { tenant, role } = payload as { tenant?: unknown; role?: unknown };
  if (!isTenantId(tenant)) throw new TauError("TAU_E_AUTH_INVALID", "The token's `tenant` claim is missing or not a tenant id.", { claim: "tenant" });
  if (!isRole(role)) throw new TauError("TAU_E_AUTH_INVALID", `The token's \`role\` claim must be one of ${ROLES.join(", ")}.`, { claim: "role" });
  return {
    tenant,
    role,
    subject: typeof payload.sub === "string" ? payload.sub : null,
    expiresAt: payload.exp * 1000,
  };
}

/** Issues a token (what `tau tokens issue` asks the daemon for). */
export function issueToken(
  config: TokenConfig,
  claims: { tenant: string; role: Role; ttlSec: number; subject?: string },
  nowMs = Date.now(),
): { token: string; expiresAt: number } {
  if (config.signKey === null) {
    throw new TauError("TAU_E_AUTH_CONFIG", `This daemon verifies ${config.algorithm} tokens but holds no private key to issue them.`, {
      option: "TAU_JWT_PRIVATE_KEY",
    });
  }
  if (!isTenantId(claims.tenant)) throw new TauError("TAU_E_REQUEST_INVALID", "Invalid tenant id.", { field: "tenant" });
  if (!isRole(claims.role)) throw new TauError("TAU_E_REQUEST_INVALID", `role must be one of ${ROLES.join(", ")}.`, { field: "role" });
  if (!Number.isInteger(claims.ttlSec) || claims.ttlSec < 1 || claims.ttlSec > MAX_TOKEN_TTL_SEC) {
    throw new TauError("TAU_E_REQUEST_INVALID", `ttl must be between 1 second and ${MAX_TOKEN_TTL_SEC} seconds.`, { field: "ttl" });
  }
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + claims.ttlSec;
  const body: Record<string, unknown> = { tenant: claims.tenant, role: claims.role, iat, exp };
  if (claims.subject) body.sub = claims.subject;
  const token = jwt.sign(body, config.signKey, { algorithm: config.algorithm, noTimestamp: true });
  return { token, expiresAt: exp * 1000 };
}

/** Role needed for an action: viewers read, operators deploy and run, admins manage tenants and tokens. */
export type Access = "read" | "operate" | "admin";
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const NEEDS: Record<Access, Role> = { read: "viewer", operate: "operator", admin: "admin" };

export function assertAccess(principal: Principal, access: Access): void {
  const needed = NEEDS[access];
  if (RANK[principal.role] < RANK[needed]) {
    throw new TauError("TAU_E_FORBIDDEN", `This needs the ${needed} role; the token has ${principal.role}.`, {
      role: principal.role,
      needed,
    });
  }
}

function configError(option: string, message: string): TauError {
  return new TauError("TAU_E_DAEMON_OPTIONS_INVALID", message, { option });
}
