/**
 * Hosted mode's per-tenant tables (additive to entities.ts, which lists them in ENTITIES): the tenant's
 * policy and its secrets. Secret values are stored only as SecretCipher ciphertext.
 */
import { EntitySchema } from "@mikro-orm/core";
import type { Policy } from "../../policies";
import { int64, json } from "./column-types";

export interface TenantPolicyRow {
  tenantId: string;
  policy: Policy;
  updatedAt: number;
}

export interface TenantSecretRow {
  id: number;
  tenantId: string;
  name: string;
  /** `v1:<base64>` from SecretCipher.encrypt, bound to the tenant and the name. */
  value: string;
  createdAt: number;
  updatedAt: number;
}

export const TenantPolicyEntity = new EntitySchema<TenantPolicyRow>({
  name: "TenantPolicy",
  tableName: "tenant_policy",
  properties: {
    tenantId: { type: "string", primary: true, length: 64 },
    policy: { ...json },
    updatedAt: { ...int64 },
  },
});

export const TenantSecretEntity = new EntitySchema<TenantSecretRow>({
  name: "TenantSecret",
  tableName: "tenant_secret",
  uniques: [{ properties: ["tenantId", "name"] }],
  properties: {
    id: { type: "integer", primary: true, autoincrement: true },
    tenantId: { type: "string", length: 64 },
    name: { type: "string", length: 128 },
    value: { type: "text" },
    createdAt: { ...int64 },
    updatedAt: { ...int64 },
  },
});
