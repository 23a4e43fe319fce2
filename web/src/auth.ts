/**
 * The bearer token of a hosted instance (local mode needs none). Kept in sessionStorage: it lives as long
 * as the tab and is never put in a URL or written to the console. HTTP requests send it as
 * `Authorization: Bearer …`; the WebSocket, which cannot carry headers from a browser, offers it as the
 * subprotocol `tau.bearer.<token>` (taud's server/http/auth.ts).
 *
 * A 401 from the daemon (no token, a refused one, an expired one) forgets the token and asks for one: the
 * sign-in panel (views/sign-in.tsx) shows why. A 403 is not a sign-in matter: the view that asked shows it.
 * The token's payload (tenant, role, expiry) is decoded here for display only — the daemon verifies the
 * signature and enforces the role; the page merely disables what the role cannot do and says why.
 */
import type { ErrorBody } from "./api";

const KEY = "tau.token";
const listeners = new Set<(needed: boolean) => void>();
let needed = false;
let reason: ErrorBody | null = null;

function storage(): Storage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null; // storage disabled by the browser
  }
}

export function getToken(): string | null {
  return storage()?.getItem(KEY) ?? null;
}

/** Stores a pasted token (a leading "Bearer " and surrounding blanks are dropped); null or blank forgets it. */
export function setToken(token: string | null): void {
  const s = storage();
  const clean = token?.trim().replace(/^Bearer\s+/i, "") ?? "";
  if (clean === "") s?.removeItem(KEY);
  else s?.setItem(KEY, clean);
}

/** HTTP codes that mean "sign in (again)". */
export const AUTH_CODES: ReadonlySet<string> = new Set(["TAU_E_AUTH_REQUIRED", "TAU_E_AUTH_INVALID", "TAU_E_AUTH_EXPIRED"]);

/**
 * Called by the HTTP client when the daemon refused the token (or wanted one): the token is forgotten (it
 * will not work again), and the first refusal's error is kept for the sign-in panel.
 */
export function authRequired(error?: ErrorBody): void {
  if (needed) return;
  needed = true;
  reason = error ?? null;
  setToken(null);
  for (const listener of listeners) listener(true);
}

export function isAuthRequired(): boolean {
  return needed;
}

/** Why the daemon asked for a token (its error), when it said. */
export function authError(): ErrorBody | null {
  return reason;
}

export function onAuthRequired(listener: (needed: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** What a token says about its bearer, read without verifying it (display only). */
export interface TokenClaims {
  tenant: string | null;
  role: string | null;
  subject: string | null;
  /** Milliseconds since the epoch, when the token has an `exp`. */
  expiresAt: number | null;
}

/** Decodes a JWT's payload; null when the text is not a JWT with a JSON object payload. */
export function decodeClaims(token: string): TokenClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return null;
  try {
    const b64 = parts[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const payload: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
    const p = payload as Record<string, unknown>;
    const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
    return { tenant: text(p.tenant), role: text(p.role), subject: text(p.sub), expiresAt: typeof p.exp === "number" ? p.exp * 1000 : null };
  } catch {
    return null;
  }
}

/** The stored token's claims (null: no token, or not a readable JWT). */
export function currentClaims(): TokenClaims | null {
  const token = getToken();
  return token === null ? null : decodeClaims(token);
}

/**
 * Why the signed-in token cannot run or cancel (a viewer's), or null when it may — or when the page cannot
 * tell, in which case the daemon decides and a 403 is shown where the button is.
 */
export function operateBlockedReason(claims: TokenClaims | null = currentClaims()): string | null {
  if (claims?.role !== "viewer") return null;
  return `Your token has the viewer role${claims.tenant ? ` in tenant ${claims.tenant}` : ""}: it can read, not run or cancel. Ask an admin for an operator token.`;
}

/** The daemon accepts a token for a few seconds past its `exp` (clock skew); ask it just after that. */
const EXPIRY_GRACE_MS = 6_000;
const RECHECK_MS = 15_000;

/**
 * At the token's expiry, calls `probe` (a request that needs the token): the daemon's 401
 * TAU_E_AUTH_EXPIRED then returns the page to the sign-in panel even when nothing else would have asked —
 * a quiet page, or one only listening on its WebSocket. If the daemon still accepts it (its clock is
 * behind), asks again a little later. Returns the function that stops watching.
 */
export function watchExpiry(
  probe: () => Promise<unknown>,
  expiresAt: number | null = currentClaims()?.expiresAt ?? null,
  now: () => number = Date.now,
): () => void {
  if (expiresAt === null) return () => {};
  let due = expiresAt + EXPIRY_GRACE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // setTimeout's delay is a signed 32-bit number of milliseconds: a long-lived token re-arms in steps.
  const arm = (): void => {
    timer = setTimeout(fire, Math.min(Math.max(0, due - now()), 2 ** 31 - 1));
  };
  const fire = (): void => {
    if (stopped || needed) return;
    if (now() < due) return arm();
    const again = (): void => {
      if (stopped || needed) return;
      due = now() + RECHECK_MS;
      arm();
    };
    probe().then(again, again);
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
