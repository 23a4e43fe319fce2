/**
 * The fastify app: logger, error handling, the tenant of each request, and every /api route.
 */
import websocket from "@fastify/websocket";
import fastify, { LogController, type FastifyInstance } from "fastify";
import type { LogLevel } from "../options";
import { installAuth, type AuthOptions } from "./auth";
import type { ApiContext } from "./context";
import { installErrorHandlers } from "./errors";
import { RouteCatalog } from "./openapi";
import { dagRoutes } from "./routes/dag";
import { dashboardRoutes } from "./routes/dashboard";
import { eventRoutes } from "./routes/events";
import { pipelineRoutes } from "./routes/pipelines";
import { policyRoutes } from "./routes/policy";
import { runRoutes } from "./routes/runs";
import { scheduleRoutes } from "./routes/schedules";
import { secretRoutes } from "./routes/secrets";
import { systemRoutes } from "./routes/system";
import { tenantRoutes } from "./routes/tenants";
import { webRoutes } from "./routes/web";
import { workerRoutes } from "./routes/workers";

export interface AppOptions {
  logLevel: LogLevel;
  /** Largest request body in bytes. */
  bodyLimit: number;
  /** Default: local mode (no auth). */
  auth?: AuthOptions;
}

/** Incoming WebSocket messages are small control messages. */
const WS_MAX_PAYLOAD = 64 * 1024;

/** Created first, so that its logger (JSON lines on stderr) can be handed to the services. */
export function createApp(options: AppOptions): FastifyInstance {
  return fastify({
    logger: { level: options.logLevel, stream: process.stderr },
    // One log line per request would dominate stderr at a thousand runs a second; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    // Answer requests that arrive while closing with our own error shape, not fastify's.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: true } },
  });
}

export async function registerApi(app: FastifyInstance, ctx: ApiContext, options: AppOptions): Promise<void> {
  installErrorHandlers(app, options.bodyLimit);
  // Who each request acts for, and the access every route declares (auth.ts): before any route exists.
  installAuth(app, options.auth ?? { mode: "local", tokens: null, tenantExists: () => true });
  // The dashboard's static files, before the catalog: they are not API routes.
  await webRoutes(app);
  const catalog = new RouteCatalog();
  catalog.install(app);
  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD } });
  // Registered inline (not as encapsulated plugins) so the catalog and error handler see every route.
  await pipelineRoutes(app, ctx);
  await runRoutes(app, ctx);
  await eventRoutes(app, ctx);
  await scheduleRoutes(app, ctx);
  await dagRoutes(app, ctx);
  await dashboardRoutes(app, ctx);
  await tenantRoutes(app, ctx);
  await policyRoutes(app, ctx);
  await secretRoutes(app, ctx);
  await workerRoutes(app, ctx);
  await systemRoutes(app, { ...ctx, catalog });
}
