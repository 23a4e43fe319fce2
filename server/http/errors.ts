/**
 * The HTTP boundary's one error handler: whatever a route or fastify throws leaves as
 * `{"error": {code, message, hint, details}}` with the registry's HTTP status.
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { TauError } from "../contract";

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Converts anything thrown while handling a request into a TauError (fastify's own errors included). */
export function httpErrorToTau(err: unknown, bodyLimit: number): TauError {
  if (err instanceof TauError) return err;
  const e = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? "request";
    const issues = e.validation.map((v) => ({
      in: where,
      path: v.instancePath || "/",
      message: v.message ?? "is invalid",
      ...(v.params && Object.keys(v.params).length > 0 ? { params: v.params } : {}),
    }));
    const first = issues[0];
    const message = first ? `Invalid ${where}: ${first.path === "/" ? "" : `${first.path} `}${first.message}.` : undefined;
    return new TauError("TAU_E_REQUEST_INVALID", message, { issues });
  }
  if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new TauError("TAU_E_REQUEST_TOO_LARGE", undefined, { limitBytes: bodyLimit });
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    // Bad JSON, wrong content type, empty body: the client's request, described by fastify's message.
    return new TauError("TAU_E_REQUEST_INVALID", `Invalid request: ${e.message}`, { reason: e.code ?? null });
  }
  return new TauError("TAU_E_INTERNAL");
}

export function installErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err, request, reply) => {
    const tau = httpErrorToTau(err, bodyLimit);
    if (tau.code === "TAU_E_INTERNAL" || tau.status >= 500) {
      request.log.error({ err, method: request.method, url: request.url, code: tau.code }, "request failed");
    }
    // Codes meant for run errors carry status 200; should one ever be thrown here, it must not read as success.
    const status = tau.status >= 400 ? tau.status : 500;
    return reply.code(status).send({ error: tau.toBody() });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    const tau = new TauError("TAU_E_ROUTE_NOT_FOUND", `No route ${request.method} ${path}.`, { method: request.method, path });
    return reply.code(tau.status).send({ error: tau.toBody() });
  });
}
