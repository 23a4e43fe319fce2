/**
 * JSON Schemas of hosted mode's views (secrets, policy, tenants, tokens; docs/hosted.md) and of the
 * dashboard's chart data (RunPoint, HistoryView in api.ts).
 */
import { Dict, Name, RunStatus, StringList, Time, TimeOrNull, nullable, object } from "./schemas-base";

export const SecretView = object({ name: Name, createdAt: Time, updatedAt: Time }, { description: "A stored secret: its name and times, never its value." });

export const SecretWritten = object({ name: Name, created: { type: "boolean", description: "false when an existing secret was replaced." } });

export const SecretDeleted = object({ name: Name, deleted: { const: true } });

export const PolicyView = object({
  tenant: Name,
  source: { type: "string", enum: ["stored", "default"], description: "stored: set with `tau policy set`; default: the mode's default." },
  policy: {
    type: "object",
    description: "The policy document; its full JSON Schema is in docs/policies.md.",
    required: ["connectors", "egress", "secrets", "duckdbAnyPath", "limits"],
    // true: the serialiser keeps every field of the document, listed here or not.
    additionalProperties: true,
    properties: {
      connectors: StringList,
      egress: { type: "array", items: Dict },
      secrets: StringList,
      duckdbAnyPath: { type: "boolean" },
      limits: Dict,
    },
  },
});

export const TenantView = object({
  id: { type: "string", pattern: "^[a-z][a-z0-9_-]{0,63}$" },
  name: { type: "string" },
  createdAt: Time,
});

export const IssuedToken = object(
  {
    token: { ...Name, description: "A JWT: send as Authorization: Bearer <token> (the CLI reads TAU_TOKEN)." },
    tenant: Name,
    role: { type: "string", enum: ["viewer", "operator", "admin"] },
    expiresAt: Time,
  },
  { description: "A bearer token: send it as `Authorization: Bearer <token>` (the CLI: TAU_TOKEN)." },
);

export const RunPoint = object(
  {
    id: { type: "string" },
    version: { type: "integer" },
    status: RunStatus,
    trigger: { type: "string" },
    queuedAt: Time,
    startedAt: TimeOrNull,
    finishedAt: TimeOrNull,
    durationMs: nullable("integer"),
    rowsIn: nullable("integer", { description: "rowsIn of the first step that reported one." }),
    rowsOut: nullable("integer", { description: "rowsOut of the last step that reported one." }),
    errorCode: nullable("string"),
  },
  { description: "One run as a chart point." },
);

export const HistoryView = object({ pipelines: { type: "object", additionalProperties: { type: "array", items: RunPoint } } });
