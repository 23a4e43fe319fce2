/** Times are stored as epoch milliseconds and leave the daemon as ISO-8601 UTC strings. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

/** Parses an ISO time from outside (an executor's event); falls back to now when it is not a time. */
export function msFromIso(value: string, fallback: number = Date.now()): number {
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : fallback;
}
