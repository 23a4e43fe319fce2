/**
 * /api/policy: a tenant's policy (docs/policies.md). Anyone of the tenant may read it; only a platform admin
 * changes it — a tenant's own admin cannot widen its egress or limits.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { TauError, Schemas as S } from "../../contract";
import type { ApiContext } from "../context";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };

const TenantQuery = {
  type: "object",
  properties: { tenant: { type: "string", minLength: 1, maxLength: 64, description: "Another tenant's policy (platform admin). Default: the caller's." } },
} as const;

type Request = FastifyRequest<{ Querystring: { tenant?: string } }>;

export async function policyRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { policies, tenants } = ctx;

  /** The tenant asked for: the caller's own, or (platform admin) any existing one. */
  const target = (request: Request, what: string): string => {
    const tenant = request.query.tenant ?? request.tenantId;
    if (tenant !== request.tenantId) tenants.requirePlatformAdmin(request.principal, what);
    if (!tenants.exists(tenant)) throw tenantNotFound(tenant);
    return tenant;
  };

  app.get<{ Querystring: { tenant?: string } }>(
    "/api/policy",
    {
      config: { access: "read" },
      schema: {
        operationId: "getPolicy",
        summary: "The tenant's policy in effect: stored, or the mode's default.",
        tags: ["policy"],
        querystring: TenantQuery,
        response: { 200: S.PolicyView, ...errors },
      },
    },
    (request) => policies.view(target(request, "read another tenant's policy")),
  );

  app.put<{ Querystring: { tenant?: string }; Body: unknown }>(
    "/api/policy",
    {
      config: { access: "admin" },
      schema: {
        operationId: "setPolicy",
        summary: "Replace a tenant's policy (platform admin); validated against the policy schema, used by runs started from now on.",
        tags: ["policy"],
        querystring: TenantQuery,
        body: { type: "object", description: "A whole policy document (docs/policies.md)." },
        response: { 200: S.PolicyView, ...errors },
      },
    },
    (request) => {
      tenants.requirePlatformAdmin(request.principal, "change policies");
      return policies.set(target(request, "change another tenant's policy"), request.body);
    },
  );
}

function tenantNotFound(tenant: string): TauError {
  return new TauError("TAU_E_TENANT_NOT_FOUND", `No tenant '${tenant}'.`, { id: tenant });
}
