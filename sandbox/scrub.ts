/**
 * Secret scrubbing: every secret value a run resolved is replaced by `[secret:NAME]` in whatever leaves the
 * executor (log lines, step meta, errors, results). Secret values never enter the isolate (the guest holds
 * markers), so this catches the remaining path: a driver echoing a value back (a DSN in an error message, a
 * database path in a query result) that the pipeline then logs, concatenates or returns.
 */

import { mapJsonStrings } from "./json-guard";

/** Values shorter than this are not scrubbed: replacing every "ab" in a run's output would destroy it. */
export const MIN_SCRUBBED_SECRET_LENGTH = 4;

interface Needle {
  text: string;
  replacement: string;
}

export class SecretScrubber {
  private readonly secrets = new Map<string, string>();
  private needles: Needle[] = [];

  /** Registers a resolved secret. Idempotent. */
  add(name: string, value: string): void {
    if (this.secrets.get(name) === value) return;
    this.secrets.set(name, value);
    this.rebuild();
  }

  /** Number of registered secrets that are long enough to scrub. */
  get size(): number {
    return this.needles.length === 0 ? 0 : new Set(this.needles.map((n) => n.replacement)).size;
  }

  /** Replaces every registered value (and its JSON-escaped and URL-encoded forms) in a string. */
  scrubText(text: string): string {
    if (this.needles.length === 0 || text.length === 0) return text;
    let out = text;
    for (const n of this.needles) {
      if (out.includes(n.text)) out = out.split(n.text).join(n.replacement);
    }
    return out;
  }

  /**
   * Returns a copy of a JSON-like value with secrets scrubbed from every string and every key. Iterative, so a
   * deep value cannot overflow the host stack.
   */
  scrubValue<T>(value: T): T {
    if (this.needles.length === 0) return value;
    return mapJsonStrings(value, (text) => this.scrubText(text), { keys: true });
  }

  private rebuild(): void {
    const needles: Needle[] = [];
    for (const [name, value] of this.secrets) {
      if (value.length < MIN_SCRUBBED_SECRET_LENGTH) continue;
      const replacement = `[secret:${name}]`;
      const forms = new Set([value, JSON.stringify(value).slice(1, -1), safeEncode(value)]);
      for (const text of forms) if (text.length >= MIN_SCRUBBED_SECRET_LENGTH) needles.push({ text, replacement });
    }
    // Longest first, so a secret that contains another is replaced whole.
    needles.sort((a, b) => b.text.length - a.text.length);
    this.needles = needles;
  }
}

function safeEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value; // lone surrogates
  }
}
