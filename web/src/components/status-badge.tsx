/** A run or step status as a coloured badge with its name in text (colour is never the only cue). */
const LABELS: Record<string, string> = {
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? "never";
  return <span class={`badge status-${s}`}>{LABELS[s] ?? (s === "never" ? "never run" : s)}</span>;
}
