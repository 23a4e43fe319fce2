/**
 * Secret values at rest: AES-256-GCM under the key from TAU_SECRET_KEY. Each value gets a fresh 96-bit IV;
 * the tenant and the secret's name are bound in as additional authenticated data, so a ciphertext copied to
 * another tenant's row or another name does not decrypt. Stored form: `v1:<base64(iv ‖ tag ‖ ciphertext)>`
 * (the version prefix leaves room for key rotation).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { TauError } from "../contract";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A secret is a credential or a DSN, not a data set. */
export const MAX_SECRET_BYTES = 64 * 1024;

export class SecretCipher {
  private constructor(private readonly key: Buffer) {}

  /** `raw`: 32 bytes as 64 hex characters or as base64 (what `openssl rand -base64 32` prints). */
  static fromKey(raw: string | undefined): SecretCipher {
    const text = (raw ?? "").trim();
    let key: Buffer | null = null;
    if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, "hex");
    else if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) key = Buffer.from(text, "base64");
    if (key === null || key.length !== 32) {
      throw new TauError("TAU_E_DAEMON_OPTIONS_INVALID", "TAU_SECRET_KEY must be 32 random bytes, as 64 hex characters or base64.", {
        option: "TAU_SECRET_KEY",
      });
    }
    return new SecretCipher(key);
  }

  encrypt(tenantId: string, name: string, value: string): string {
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) {
      throw new TauError("TAU_E_REQUEST_INVALID", `A secret value may hold at most ${MAX_SECRET_BYTES} bytes.`, { field: "value" });
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(aad(tenantId, name));
    const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
  }

  /** Throws TAU_E_SECRET_UNREADABLE when the value was written under another key, tenant or name, or altered. */
  decrypt(tenantId: string, name: string, stored: string): string {
    const sep = stored.indexOf(":");
    const blob = sep > 0 && stored.slice(0, sep) === VERSION ? Buffer.from(stored.slice(sep + 1), "base64") : null;
    if (blob === null || blob.length < IV_BYTES + TAG_BYTES) throw unreadable(name);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, blob.subarray(0, IV_BYTES));
      decipher.setAAD(aad(tenantId, name));
      decipher.setAuthTag(blob.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(blob.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw unreadable(name);
    }
  }
}

function aad(tenantId: string, name: string): Buffer {
  return Buffer.from(`tau-secret\0${tenantId}\0${name}`, "utf8");
}

function unreadable(name: string): TauError {
  return new TauError("TAU_E_SECRET_UNREADABLE", undefined, { name });
}
