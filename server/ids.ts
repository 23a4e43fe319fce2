/**
 * Run ids: `run_` + a ULID (48-bit millisecond time + 80 random bits, Crockford base32). Ids sort by
 * creation time as plain strings — listings order by id — and are monotonic within one millisecond
 * (the random part is incremented), so two runs queued in the same millisecond still sort in queue order.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export class IdGenerator {
  private lastMs = -1;
  private lastRandom: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  runId(): string {
    return `run_${this.ulid()}`;
  }

  ulid(): string {
    const ms = Math.max(this.now(), this.lastMs);
    if (ms === this.lastMs) {
      this.increment();
    } else {
      this.lastMs = ms;
      this.lastRandom = Array.from(randomBytes(16), (b) => b & 31);
    }
    return encodeTime(ms) + this.lastRandom.map((d) => ALPHABET[d]).join("");
  }

  private increment(): void {
    for (let i = this.lastRandom.length - 1; i >= 0; i--) {
      if (this.lastRandom[i]! < 31) {
        this.lastRandom[i]!++;
        return;
      }
      this.lastRandom[i] = 0;
    }
    // 2^80 ids in one millisecond: move to the next millisecond rather than wrap.
    this.lastMs++;
  }
}

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}
