/**
 * The bearer token of a hosted instance (local mode needs none). Kept in sessionStorage: it lives as long
 * as the tab and is never put in a URL. HTTP requests send it as `Authorization: Bearer …`; the WebSocket,
 * which cannot carry headers from a browser, offers it as the subprotocol `tau.bearer.<token>` (taud's
 * server/http/auth.ts). A 401 from the daemon asks the user for a token (the sign-in panel in app.tsx).
 */
const KEY = "tau.token";
const listeners = new Set<(needed: boolean) => void>();
let needed = false;

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

export function setToken(token: string | null): void {
  const s = storage();
  if (token === null || token.trim() === "") s?.removeItem(KEY);
  else s?.setItem(KEY, token.trim());
}

/** HTTP codes that mean "sign in (again)". */
export const AUTH_CODES: ReadonlySet<string> = new Set(["TAU_E_AUTH_REQUIRED", "TAU_E_AUTH_INVALID", "TAU_E_AUTH_EXPIRED"]);

/** Called by the HTTP client when the daemon refused the token (or wanted one). */
export function authRequired(): void {
  if (needed) return;
  needed = true;
  for (const listener of listeners) listener(true);
}

export function isAuthRequired(): boolean {
  return needed;
}

export function onAuthRequired(listener: (needed: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
