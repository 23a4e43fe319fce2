/**
 * A tenant's stored secrets: set, list (names and times only), delete; and, for each run, the values its
 * policy lets it read, decrypted, handed to the executor with the run job (RunJob.secrets). Values are
 * encrypted at rest with SecretCipher (TAU_SECRET_KEY), never logged, never answered by the API, and the
 * executor scrubs them from every log, error and result as it does environment secrets.
 *
 * Local mode: ctx.secret reads taud's environment, as before; a secret stored with `tau secrets set` (needs
 * TAU_SECRET_KEY) takes precedence over a variable of the same name. Hosted mode: stored secrets only.
 */
import { checkSecret, type Policy } from "../../policies";
import { SECRET_NAME } from "../../sandbox/executor/secrets";
import type { RunJobSecrets } from "../../sandbox/types";
import { TauError } from "../contract";
import type { Logger } from "../log";
import type { SecretCipher } from "../secrets";
import { iso, type Store } from "../store";

export interface SecretView {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export class SecretService {
  /** Sealed values per tenant, read once: runs are the hot path, writes all go through this service. */
  private readonly sealed = new Map<string, Promise<Map<string, string>>>();

  constructor(
    private readonly options: {
      store: Store;
      mode: "local" | "hosted";
      /** Null when the daemon has no TAU_SECRET_KEY (local mode only; hosted mode requires one). */
      cipher: SecretCipher | null;
      log: Logger;
    },
  ) {}

  async list(tenantId: string): Promise<SecretView[]> {
    return (await this.options.store.secrets.list(tenantId)).map((s) => ({ name: s.name, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt) }));
  }

  /** Creates or replaces a secret; `created` says which. */
  async set(tenantId: string, name: string, value: unknown): Promise<{ name: string; created: boolean }> {
    const cipher = this.requireCipher();
    assertName(name);
    if (typeof value !== "string" || value === "") throw new TauError("TAU_E_REQUEST_INVALID", "value must be a non-empty string.", { field: "value" });
    const created = await this.options.store.secrets.set(tenantId, name, cipher.encrypt(tenantId, name, value));
    this.sealed.delete(tenantId);
    return { name, created };
  }

  async delete(tenantId: string, name: string): Promise<{ name: string; deleted: true }> {
    assertName(name);
    const deleted = await this.options.store.secrets.delete(tenantId, name);
    this.sealed.delete(tenantId);
    if (!deleted) {
      throw new TauError("TAU_E_SECRET_NOT_STORED", `No stored secret named ${name}.`, { name });
    }
    return { name, deleted: true };
  }

  /** What a run of this tenant may read: the stored secrets its policy allows, decrypted. */
  async forRun(tenantId: string, policy: Policy): Promise<RunJobSecrets> {
    const { store, cipher, mode, log } = this.options;
    const values: Record<string, string> = {};
    if (cipher !== null) {
      let stored = this.sealed.get(tenantId);
      if (!stored) {
        stored = store.secrets.sealed(tenantId);
        this.sealed.set(tenantId, stored);
        stored.catch(() => this.sealed.delete(tenantId));
      }
      for (const [name, sealed] of await stored) {
        if (checkSecret(policy, name) !== null) continue;
        try {
          values[name] = cipher.decrypt(tenantId, name, sealed);
        } catch (err) {
          // The run then answers TAU_E_SECRET_NOT_FOUND for it; the operator sees why here (name only).
          log.warn({ tenant: tenantId, secret: name, code: (err as TauError).code }, "stored secret cannot be decrypted; skipped");
        }
      }
    }
    return { values, environment: mode === "local" };
  }

  private requireCipher(): SecretCipher {
    if (this.options.cipher === null) throw new TauError("TAU_E_SECRETS_DISABLED");
    return this.options.cipher;
  }
}

function assertName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new TauError("TAU_E_REQUEST_INVALID", "A secret name is letters, digits and '_' (not starting with a digit), at most 128 characters.", {
      field: "name",
    });
  }
}
