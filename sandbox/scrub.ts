/**
 * Secret scrubbing: every secret value a run resolved is replaced by `[secret:NAME]` in whatever leaves the
 * executor (log lines, step meta, errors, results). Secret values never enter the isolate (the guest holds
 * markers), so this catches the remaining path: a driver echoing a value back (a DSN in an error message, a
 * database path in a query result) that the pipeline then logs, concatenates or returns.
 */

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
   * deep value cannot overflow the host stack; non-JSON leaves (functions, symbols) are dropped like
   * JSON.stringify would.
   */
  scrubValue<T>(value: T): T {
    if (this.needles.length === 0) return value;
    if (typeof value === "string") return this.scrubText(value) as T;
    if (typeof value !== "object" || value === null) return value;
    const root: { v: unknown } = { v: undefined };
    const stack: Array<{ src: unknown; set: (v: unknown) => void }> = [{ src: value, set: (v) => (root.v = v) }];
    while (stack.length > 0) {
      const { src, set } = stack.pop()!;
      if (typeof src === "string") {
        set(this.scrubText(src));
      } else if (Array.isArray(src)) {
        const copy: unknown[] = new Array(src.length);
        set(copy);
        for (let i = 0; i < src.length; i++) stack.push({ src: src[i], set: (v) => (copy[i] = v) });
      } else if (typeof src === "object" && src !== null) {
        const copy: Record<string, unknown> = {};
        set(copy);
        for (const [k, v] of Object.entries(src)) {
          const key = this.scrubText(k);
          copy[key] = undefined; // keeps the key order; filled below
          stack.push({ src: v, set: (x) => (copy[key] = x) });
        }
      } else {
        set(src);
      }
    }
    return root.v as T;
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
