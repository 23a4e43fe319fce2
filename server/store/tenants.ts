/**
 * Tenants, their policies and their (encrypted) secrets: low volume, through the ORM.
 */
import type { Policy } from "../../policies";
import type { Database } from "./database";
import { byteOrder } from "./sql";
import { TenantEntity, type TenantRow } from "./entities";
import { TenantPolicyEntity, TenantSecretEntity, type TenantPolicyRow } from "./tenant-entities";

export interface SecretInfo {
  name: string;
  createdAt: number;
  updatedAt: number;
}

export class TenantRepository {
  constructor(private readonly db: Database) {}

  list(): Promise<TenantRow[]> {
    return this.db.query("list tenants", async (em) => byteOrder(await em.find(TenantEntity, {}), (t) => t.id));
  }

  /** Creates a tenant; false when one with that id exists already. */
  create(id: string, name: string, now = Date.now()): Promise<boolean> {
    return this.db.transaction("create tenant", async (em) => {
      if (await em.findOne(TenantEntity, { id })) return false;
      em.create(TenantEntity, { id, name, createdAt: now });
      return true;
    });
  }

  policies(): Promise<TenantPolicyRow[]> {
    return this.db.query("read tenant policies", (em) => em.find(TenantPolicyEntity, {}));
  }

  setPolicy(tenantId: string, policy: Policy, now = Date.now()): Promise<void> {
    return this.db.transaction("set tenant policy", async (em) => {
      await em.upsert(TenantPolicyEntity, { tenantId, policy, updatedAt: now });
    });
  }
}

export class SecretRepository {
  constructor(private readonly db: Database) {}

  /** Names and times only: values never leave the store except to be decrypted for a run. */
  async list(tenantId: string): Promise<SecretInfo[]> {
    const rows = byteOrder(await this.db.query("list secrets", (em) => em.find(TenantSecretEntity, { tenantId })), (r) => r.name);
    return rows.map((r) => ({ name: r.name, createdAt: r.createdAt, updatedAt: r.updatedAt }));
  }

  /** Every stored (encrypted) value of a tenant, by name. */
  async sealed(tenantId: string): Promise<Map<string, string>> {
    const rows = await this.db.query("read secrets", (em) => em.find(TenantSecretEntity, { tenantId }));
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  /** Creates or replaces a secret; true when it was created. */
  set(tenantId: string, name: string, sealedValue: string, now = Date.now()): Promise<boolean> {
    return this.db.transaction("set secret", async (em) => {
      const existing = await em.findOne(TenantSecretEntity, { tenantId, name });
      if (existing) {
        existing.value = sealedValue;
        existing.updatedAt = now;
        return false;
      }
      em.create(TenantSecretEntity, { tenantId, name, value: sealedValue, createdAt: now, updatedAt: now });
      return true;
    });
  }

  /** False when there was no such secret. */
  delete(tenantId: string, name: string): Promise<boolean> {
    return this.db.query("delete secret", async (em) => (await em.nativeDelete(TenantSecretEntity, { tenantId, name })) > 0);
  }
}
