/**
 * The sign-in panel: shown when a hosted taud answered 401 (no token, a refused one, an expired one), with
 * the daemon's code and message. The pasted token goes to sessionStorage (auth.ts) and the page reloads, so
 * every request and the WebSocket start over with it; it never appears in the address or the history.
 */
import type { ErrorBody } from "../api";
import { setToken } from "../auth";

const GUIDANCE: Record<string, string> = {
  TAU_E_AUTH_REQUIRED: "This Tau instance needs a bearer token.",
  TAU_E_AUTH_INVALID: "The daemon refused the token: it must be one this instance issued, unaltered.",
  TAU_E_AUTH_EXPIRED: "Your token has expired.",
};

export function SignIn({ error }: { error: ErrorBody | null }) {
  const refused = error !== null && error.code !== "TAU_E_AUTH_REQUIRED";
  return (
    <section aria-labelledby="signin-title" class="signin">
      <h1 id="signin-title">Sign in</h1>
      {refused && (
        <div class="error-box" role="alert" data-testid="signin-error">
          <code class="code">{error.code}</code> <span>{error.message}</span>
        </div>
      )}
      <p>
        {GUIDANCE[error?.code ?? ""] ?? GUIDANCE.TAU_E_AUTH_REQUIRED} Paste a token issued for your tenant (an admin runs{" "}
        <code>tau tokens issue --tenant T --role R</code>). It is kept for this tab only and sent to this daemon alone.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          // Read from the field itself (not from render state): what was pasted is what is used.
          const field = e.currentTarget.elements.namedItem("token") as HTMLInputElement | null;
          setToken(field?.value ?? null);
          location.reload();
        }}
      >
        <label>
          Access token
          <input type="password" name="token" autoComplete="off" spellcheck={false} required />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </section>
  );
}
