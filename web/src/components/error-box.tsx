/** A Tau error (code, message, hint) as the dashboard shows it: the same three facts the CLI prints. */
import type { ErrorBody } from "../api";

export function ErrorBox({ error, title }: { error: ErrorBody; title?: string }) {
  return (
    <div class="error-box" role="alert">
      {title && <strong>{title} </strong>}
      <code class="code">{error.code}</code> <span>{error.message}</span>
      {error.hint && <p class="hint">{error.hint}</p>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}
