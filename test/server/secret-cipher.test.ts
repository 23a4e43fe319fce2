import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TauError } from "../../server/contract";
import { SecretCipher } from "../../server/secrets";

const key = randomBytes(32);
const cipher = SecretCipher.fromKey(key.toString("base64"));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as TauError).code;
  }
  throw new Error("expected a TauError");
}

describe("SecretCipher (AES-256-GCM)", () => {
  it("round-trips any value, with a fresh IV each time", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (value) => {
        const a = cipher.encrypt("acme", "DSN", value);
        expect(cipher.decrypt("acme", "DSN", a)).toBe(value);
        if (value.length > 0) expect(a).not.toContain(Buffer.from(value).toString("base64"));
        expect(cipher.encrypt("acme", "DSN", value)).not.toBe(a);
      }),
    );
  });

  it("binds tenant and name: a ciphertext moved to another tenant or name does not decrypt", () => {
    const stored = cipher.encrypt("acme", "DSN", "postgres://u:p@h/db");
    expect(code(() => cipher.decrypt("other", "DSN", stored))).toBe("TAU_E_SECRET_UNREADABLE");
    expect(code(() => cipher.decrypt("acme", "OTHER", stored))).toBe("TAU_E_SECRET_UNREADABLE");
  });

  it("refuses altered ciphertexts and another key", () => {
    const stored = cipher.encrypt("acme", "K", "value");
    const blob = Buffer.from(stored.slice(3), "base64");
    blob[blob.length - 1] ^= 1;
    expect(code(() => cipher.decrypt("acme", "K", `v1:${blob.toString("base64")}`))).toBe("TAU_E_SECRET_UNREADABLE");
    expect(code(() => cipher.decrypt("acme", "K", "garbage"))).toBe("TAU_E_SECRET_UNREADABLE");
    const other = SecretCipher.fromKey(randomBytes(32).toString("hex"));
    expect(code(() => other.decrypt("acme", "K", stored))).toBe("TAU_E_SECRET_UNREADABLE");
  });

  it("accepts only 32-byte keys in hex or base64", () => {
    expect(() => SecretCipher.fromKey(key.toString("hex"))).not.toThrow();
    for (const bad of [undefined, "", "short", randomBytes(16).toString("hex"), randomBytes(31).toString("base64")]) {
      expect(code(() => SecretCipher.fromKey(bad))).toBe("TAU_E_DAEMON_OPTIONS_INVALID");
    }
  });

  it("caps a value's size", () => {
    expect(code(() => cipher.encrypt("acme", "BIG", "x".repeat(64 * 1024 + 1)))).toBe("TAU_E_REQUEST_INVALID");
  });
});
