/**
 * Tenants and tokens (hosted mode). Admins are per tenant: an admin manages its own tenant (tokens for
 * it). A platform admin — an admin of the tenant named by TAU_ADMIN_TENANT (default "admin") — also creates
 * tenants, sees them all, issues tokens for any of them and sets their policies (docs/hosted.md).
 */
import { issueToken, isRole, isTenantId, type Principal, type Role, type TokenConfig } from "../auth";
import { TauError } from "../contract";
import { iso, type Store, type TenantRow } from "../store";

export interface TenantServiceOptions {
  store: Store;
  mode: "local" | "hosted";
  adminTenant: string;
  /** Hosted mode's token configuration; null in local mode. */
  tokens: TokenConfig | null;
}

export interface TenantView {
  id: string;
  name: string;
  createdAt: string;
}

export interface IssuedToken {
  token: string;
  tenant: string;
  role: Role;
  expiresAt: string;
}

/** `1h`, `30m`, `7d`, `90s` or plain seconds → seconds; null when malformed. */
export function parseTtl(text: string): number | null {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

export class TenantService {
  /** Tenant ids, kept in memory: the auth hook asks on every request. */
  private readonly known = new Set<string>();

  constructor(private readonly options: TenantServiceOptions) {}

  /** Loads the tenants; in hosted mode creates the platform admin tenant when missing. */
  async start(): Promise<void> {
    const { store, mode, adminTenant } = this.options;
    if (mode === "hosted") await store.tenants.create(adminTenant, "Platform administration");
    for (const tenant of await store.tenants.list()) this.known.add(tenant.id);
  }

  exists(tenantId: string): boolean {
    return this.known.has(tenantId);
  }

  isPlatformAdmin(principal: Principal): boolean {
    return this.options.mode === "local" || (principal.role === "admin" && principal.tenant === this.options.adminTenant);
  }

  /** A platform admin sees every tenant; any other caller only its own. */
  async list(principal: Principal): Promise<TenantView[]> {
    const rows = await this.options.store.tenants.list();
    return rows.filter((t) => this.isPlatformAdmin(principal) || t.id === principal.tenant).map(tenantView);
  }

  async create(principal: Principal, request: { id: string; name?: string }): Promise<TenantView> {
    this.requireHosted("tenants create");
    this.requirePlatformAdmin(principal, "create tenants");
    if (!isTenantId(request.id)) {
      throw new TauError("TAU_E_REQUEST_INVALID", "A tenant id is 1–64 lowercase letters, digits, '_' or '-', starting with a letter.", { field: "id" });
    }
    const name = request.name?.trim() || request.id;
    const now = Date.now();
    if (!(await this.options.store.tenants.create(request.id, name, now))) {
      throw new TauError("TAU_E_TENANT_EXISTS", `Tenant '${request.id}' exists already.`, { id: request.id });
    }
    this.known.add(request.id);
    return tenantView({ id: request.id, name, createdAt: now });
  }

  /** Signs a token with the daemon's key: for the caller's tenant, or any tenant for a platform admin. */
  issue(principal: Principal, request: { tenant?: string; role: string; ttl: string; subject?: string }): IssuedToken {
    this.requireHosted("tokens issue");
    const tenant = request.tenant ?? principal.tenant;
    if (tenant !== principal.tenant) this.requirePlatformAdmin(principal, "issue tokens for another tenant");
    if (!this.exists(tenant)) throw new TauError("TAU_E_TENANT_NOT_FOUND", `No tenant '${tenant}'.`, { id: tenant });
    if (!isRole(request.role)) throw new TauError("TAU_E_REQUEST_INVALID", "role must be viewer, operator or admin.", { field: "role" });
    const ttlSec = parseTtl(request.ttl);
    if (ttlSec === null) throw new TauError("TAU_E_REQUEST_INVALID", "ttl is a number with an optional unit: 90s, 30m, 1h, 7d.", { field: "ttl" });
    const subject = request.subject ?? `issued-by:${principal.subject ?? `${principal.tenant}/${principal.role}`}`;
    const { token, expiresAt } = issueToken(this.options.tokens!, { tenant, role: request.role, ttlSec, subject });
    return { token, tenant, role: request.role, expiresAt: iso(expiresAt) };
  }

  requirePlatformAdmin(principal: Principal, what: string): void {
    if (!this.isPlatformAdmin(principal)) {
      throw new TauError("TAU_E_FORBIDDEN", `Only a platform admin (an admin of tenant '${this.options.adminTenant}') may ${what}.`, {
        role: principal.role,
        needed: `admin of ${this.options.adminTenant}`,
      });
    }
  }

  private requireHosted(what: string): void {
    if (this.options.mode !== "hosted" || this.options.tokens === null) {
      throw new TauError("TAU_E_HOSTED_ONLY", `\`tau ${what}\` needs a hosted instance (taud --mode hosted).`, { mode: this.options.mode });
    }
  }
}

function tenantView(row: TenantRow): TenantView {
  return { id: row.id, name: row.name, createdAt: iso(row.createdAt) };
}
