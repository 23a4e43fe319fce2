/** Text for durations, times and counts, the same everywhere in the dashboard. */

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "3 min ago" / "in 2 h" relative to now. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const unit =
    abs < 45_000 ? `${Math.max(1, Math.round(abs / 1000))} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 86_400_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`;
  return diff < 0 ? `${unit} ago` : `in ${unit}`;
}

/** ISO-8601 UTC without milliseconds, as the CLI prints it. */
export function utc(iso: string | null | undefined): string {
  return iso ? iso.replace(/\.\d{3}Z$/, "Z").replace("T", " ") : "—";
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

export function clockTime(iso: string): string {
  return iso.slice(11, 23);
}

/** A pipeline's schedule as text: the cron expression (with its zone when not UTC), "every N s", or null. */
export function scheduleText(p: { schedule: string | null; everySec?: number | null; timezone?: string | null }): string | null {
  if (p.schedule) return p.timezone && p.timezone !== "UTC" ? `${p.schedule} (${p.timezone})` : p.schedule;
  if (p.everySec) return `every ${duration(p.everySec * 1000)}`;
  return null;
}
