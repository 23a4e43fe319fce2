/**
 * /api/tenants and /api/tokens: hosted mode's tenants and the tokens that act for them (services/tenants.ts
 * decides who may do what: an admin manages its own tenant, a platform admin every tenant).
 */
import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context";
import { Schemas as S } from "../../contract";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };

export async function tenantRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { tenants } = ctx;

  app.get(
    "/api/tenants",
    {
      config: { access: "admin" },
      schema: {
        operationId: "listTenants",
        summary: "Tenants: every one for a platform admin, the caller's own for a tenant admin.",
        tags: ["tenants"],
        response: { 200: { type: "array", items: S.TenantView }, ...errors },
      },
    },
    (request) => tenants.list(request.principal),
  );

  app.post<{ Body: { id: string; name?: string } }>(
    "/api/tenants",
    {
      config: { access: "admin" },
      schema: {
        operationId: "createTenant",
        summary: "Create a tenant (platform admin; hosted mode). Its policy starts as the hosted default.",
        tags: ["tenants"],
        body: {
          type: "object",
          properties: {
            id: { type: "string", minLength: 1, maxLength: 64, description: "Lowercase letters, digits, '_' or '-', starting with a letter." },
            name: { type: "string", maxLength: 200, description: "A display name (default: the id)." },
          },
          required: ["id"],
          additionalProperties: false,
        },
        response: { 201: S.TenantView, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await tenants.create(request.principal, request.body)),
  );

  app.post<{ Body: { tenant?: string; role: string; ttl: string; subject?: string } }>(
    "/api/tokens",
    {
      config: { access: "admin" },
      schema: {
        operationId: "issueToken",
        summary: "Issue a token signed with the daemon's key: for the caller's tenant, or any tenant for a platform admin (hosted mode).",
        tags: ["tenants"],
        body: {
          type: "object",
          properties: {
            tenant: { type: "string", minLength: 1, maxLength: 64, description: "Default: the caller's tenant." },
            role: { type: "string", enum: ["viewer", "operator", "admin"] },
            ttl: { type: "string", minLength: 1, maxLength: 16, description: "Lifetime: 90s, 30m, 1h, 7d (at most 366 days)." },
            subject: { type: "string", minLength: 1, maxLength: 200, description: "Who the token is for (its `sub` claim)." },
          },
          required: ["role", "ttl"],
          additionalProperties: false,
        },
        response: { 201: S.IssuedToken, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(tenants.issue(request.principal, request.body)),
  );
}
