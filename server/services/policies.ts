/**
 * Each tenant's policy: the one stored by `tau policy set`, else the mode's default (hosted: deny by
 * default, HOSTED_DEFAULT_POLICY; local: LOCAL_POLICY). Kept in memory: every run asks for its tenant's.
 */
import { HOSTED_DEFAULT_POLICY, LOCAL_POLICY, validatePolicy, type Policy } from "../../policies";
import { TauError } from "../contract";
import type { Store } from "../store";

export interface PolicyView {
  tenant: string;
  /** "stored": set with `tau policy set`; "default": the mode's default. */
  source: "stored" | "default";
  policy: Policy;
}

export class PolicyService {
  private readonly stored = new Map<string, Policy>();
  readonly defaultPolicy: Policy;

  constructor(private readonly options: { store: Store; mode: "local" | "hosted" }) {
    this.defaultPolicy = options.mode === "hosted" ? HOSTED_DEFAULT_POLICY : LOCAL_POLICY;
  }

  async start(): Promise<void> {
    for (const row of await this.options.store.tenants.policies()) this.stored.set(row.tenantId, row.policy);
  }

  /** The policy a run of this tenant gets. */
  policyFor(tenantId: string): Policy {
    return this.stored.get(tenantId) ?? this.defaultPolicy;
  }

  view(tenantId: string): PolicyView {
    const policy = this.stored.get(tenantId);
    return { tenant: tenantId, source: policy ? "stored" : "default", policy: policy ?? this.defaultPolicy };
  }

  /** Validates and stores a policy; runs queued from now on get it. */
  async set(tenantId: string, document: unknown): Promise<PolicyView> {
    const problems = validatePolicy(document);
    if (problems.length > 0) throw new TauError("TAU_E_POLICY_INVALID", `The policy is invalid: ${problems.join("; ")}.`, { problems });
    const policy = document as Policy;
    await this.options.store.tenants.setPolicy(tenantId, policy);
    this.stored.set(tenantId, policy);
    return this.view(tenantId);
  }
}
