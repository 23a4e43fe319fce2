/**
 * Who the page acts as on a hosted instance — the tenant and role read from the token (display only; the
 * daemon enforces them) — and the Sign out control. Nothing is shown without a token (local mode).
 */
import { currentClaims, getToken, setToken } from "../auth";
import { utc } from "../format";

export function Identity() {
  if (getToken() === null) return null;
  const claims = currentClaims();
  const who = claims?.tenant && claims.role ? `${claims.tenant} · ${claims.role}` : "signed in";
  const label =
    claims?.tenant && claims.role
      ? `Signed in to tenant ${claims.tenant} as ${claims.role}${claims.expiresAt !== null ? `, token expires ${utc(new Date(claims.expiresAt).toISOString())}` : ""}`
      : "Signed in with a token";
  return (
    <>
      <span class="who" data-testid="identity" title={label}>
        <span aria-hidden="true">{who}</span>
        <span class="visually-hidden">{label}</span>
      </span>
      <button
        type="button"
        class="signout"
        onClick={() => {
          setToken(null);
          location.reload();
        }}
      >
        Sign out
      </button>
    </>
  );
}
