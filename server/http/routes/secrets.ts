/**
 * /api/secrets: the caller's tenant's stored secrets (services/secrets.ts). Values go in, never out: the
 * list answers names and times only.
 */
import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context";
import { Schemas as S } from "../../contract";

const errors = { "4xx": S.ErrorResponse, "5xx": S.ErrorResponse };
const NameParams = {
  type: "object",
  properties: { name: { type: "string", minLength: 1, maxLength: 128, description: "The secret's name, as ctx.secret reads it." } },
  required: ["name"],
} as const;

export async function secretRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { secrets } = ctx;

  app.get(
    "/api/secrets",
    {
      config: { access: "operate" },
      schema: {
        operationId: "listSecrets",
        summary: "The tenant's stored secrets: names and times, never values.",
        tags: ["secrets"],
        response: { 200: { type: "array", items: S.SecretView }, ...errors },
      },
    },
    (request) => secrets.list(request.tenantId),
  );

  app.put<{ Params: { name: string }; Body: { value: string } }>(
    "/api/secrets/:name",
    {
      config: { access: "operate" },
      schema: {
        operationId: "setSecret",
        summary: "Create or replace a secret (encrypted at rest with TAU_SECRET_KEY).",
        tags: ["secrets"],
        params: NameParams,
        body: {
          type: "object",
          properties: { value: { type: "string", minLength: 1, maxLength: 65536 } },
          required: ["value"],
          additionalProperties: false,
        },
        response: { 200: S.SecretWritten, ...errors },
      },
    },
    (request) => secrets.set(request.tenantId, request.params.name, request.body.value),
  );

  app.delete<{ Params: { name: string } }>(
    "/api/secrets/:name",
    {
      config: { access: "operate" },
      schema: {
        operationId: "deleteSecret",
        summary: "Delete a stored secret.",
        tags: ["secrets"],
        params: NameParams,
        response: { 200: S.SecretDeleted, ...errors },
      },
    },
    (request) => secrets.delete(request.tenantId, request.params.name),
  );
}
