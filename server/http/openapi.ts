/**
 * The OpenAPI 3.1 document, assembled from the route schemas themselves: every route registered on the
 * app is recorded by an `onRoute` hook, so a route cannot exist without appearing here. Shared schema
 * objects from server/contract/schemas.ts become `$ref`s to `components.schemas` (matched by object identity).
 */
import type { FastifyInstance, RouteOptions } from "fastify";
import { Schemas } from "../contract";

const { COMPONENTS } = Schemas;
type Schema = Record<string, unknown>;

interface RouteSchema {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  params?: Schema;
  querystring?: Schema;
  body?: Schema;
  response?: Record<string, Schema>;
  /** Extension: the messages of a WebSocket route. */
  "x-websocket"?: { client: Schema; server: Schema };
}

interface RecordedRoute {
  method: string;
  url: string;
  schema: RouteSchema;
  /** The route's declared access (server/http/auth.ts), published as `x-tau-access`. */
  access: string | undefined;
}

/** Records routes as they are registered; install before registering any route. */
export class RouteCatalog {
  private readonly routes: RecordedRoute[] = [];

  install(app: FastifyInstance): void {
    app.addHook("onRoute", (route: RouteOptions) => {
      for (const method of [route.method].flat()) {
        if (method === "HEAD" || method === "OPTIONS") continue;
        const access = (route.config as { access?: string } | undefined)?.access;
        this.routes.push({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as RouteSchema, access });
      }
    });
  }

  document(info: { version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const sorted = [...this.routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
    for (const route of sorted) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      (paths[path] ??= {})[route.method] = { ...operation(route.schema), ...(route.access ? { "x-tau-access": route.access } : {}) };
    }
    const components: Record<string, unknown> = {};
    for (const name of Object.keys(COMPONENTS).sort()) components[name] = refs(COMPONENTS[name], COMPONENTS[name]);
    return {
      openapi: "3.1.0",
      info: {
        title: "Tau daemon API (taud)",
        version: info.version,
        description: "Every answer is JSON; every error is {\"error\": {code, message, hint, details}} with a stable TAU_E_* code.",
      },
      jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
      paths,
      components: { schemas: components },
    };
  }
}

function operation(schema: RouteSchema): Record<string, unknown> {
  const op: Record<string, unknown> = {};
  if (schema.operationId) op.operationId = schema.operationId;
  if (schema.summary) op.summary = schema.summary;
  if (schema.description) op.description = schema.description;
  if (schema.tags) op.tags = schema.tags;
  const parameters = [...parametersOf(schema.params, "path"), ...parametersOf(schema.querystring, "query")];
  if (parameters.length > 0) op.parameters = parameters;
  if (schema.body) {
    const required = ((schema.body.required as string[] | undefined) ?? []).length > 0;
    op.requestBody = { required, content: { "application/json": { schema: refs(schema.body) } } };
  }
  const responses: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(schema.response ?? {})) {
    const key = status.toUpperCase();
    responses[key] = { description: describeStatus(key), content: { "application/json": { schema: refs(body) } } };
  }
  if (schema["x-websocket"]) {
    responses["101"] = { description: "Switching Protocols: the connection becomes a WebSocket carrying JSON messages." };
    op["x-websocket"] = { client: refs(schema["x-websocket"].client), server: refs(schema["x-websocket"].server) };
  }
  op.responses = responses;
  return op;
}

function parametersOf(schema: Schema | undefined, where: "path" | "query"): Record<string, unknown>[] {
  const properties = (schema?.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: refs(rest),
    };
  });
}

const NAMES = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

/** Copies a schema, replacing every shared component (except `self`) by a $ref. */
function refs(schema: unknown, self?: unknown): unknown {
  if (schema !== self && NAMES.has(schema)) return { $ref: `#/components/schemas/${NAMES.get(schema)}` };
  if (Array.isArray(schema)) return schema.map((item) => refs(item));
  if (schema && typeof schema === "object") {
    return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, refs(value)]));
  }
  return schema;
}

function describeStatus(status: string): string {
  const known: Record<string, string> = {
    "200": "OK",
    "201": "Created",
    "4XX": "The request was refused: see error.code and error.hint.",
    "5XX": "The daemon failed: see error.code.",
  };
  return known[status] ?? "Answer";
}
