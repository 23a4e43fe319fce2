/**
 * Who a request acts for, decided in one place: an `onRequest` hook that runs before every route, the
 * WebSocket upgrade of /api/events included (fastify routes the upgrade like any GET).
 *
 * Every route declares the access it needs in its route config — `config: { access: "read" | "operate" |
 * "admin" | "public" }` — and an `onRoute` hook refuses to register a route without one, so a new route
 * cannot be forgotten. Local mode: no auth (taud listens on loopback), every request acts as the admin of
 * the "local" tenant. Hosted mode: a bearer JWT (server/auth) → `request.principal` and `request.tenantId`;
 * 401 for a missing, invalid or expired token or a tenant that does not exist, 403 for a role below the
 * route's access. "public" routes (/api/version, /api/openapi.json, the dashboard's static files) hold no
 * tenant data and need no token.
 *
 * Browsers cannot set headers on a WebSocket: the upgrade also accepts the token as a subprotocol,
 * `new WebSocket(url, ["tau", "tau.bearer.<token>"])` (the server answers with the first one, "tau").
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import type { Socket } from "node:net";
import { assertAccess, bearerToken, verifyToken, type Access, type Principal, type TokenConfig } from "../auth";
import { TauError } from "../contract";

export type RouteAccess = Access | "public";
const ACCESS_LEVELS: readonly RouteAccess[] = ["public", "read", "operate", "admin"];
const WS_TOKEN_PREFIX = "tau.bearer.";

export interface AuthOptions {
  mode: "local" | "hosted";
  /** Hosted mode: how tokens are verified. */
  tokens: TokenConfig | null;
  /** Hosted mode: whether a tenant exists (a token for an unknown tenant is refused). */
  tenantExists: (tenantId: string) => boolean;
}

/** Local mode's principal: the only user, on their own machine. */
export const LOCAL_PRINCIPAL: Principal = { tenant: "local", role: "admin", subject: null, expiresAt: Number.POSITIVE_INFINITY };

declare module "fastify" {
  interface FastifyContextConfig {
    /** What the route needs of the caller's token (auth.ts); every route must declare it. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Who is calling: from the bearer token (hosted) or LOCAL_PRINCIPAL (local). */
    principal: Principal;
  }
}

/** Install before any route is registered. */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  if (options.mode === "hosted" && options.tokens === null) {
    throw new TauError("TAU_E_DAEMON_OPTIONS_INVALID", "Hosted mode needs a token configuration.", { option: "TAU_JWT_SECRET" });
  }
  app.decorateRequest("tenantId", "");
  app.decorateRequest("principal", null as unknown as Principal);

  app.addHook("onRoute", (route: RouteOptions) => {
    const access = (route.config as { access?: unknown } | undefined)?.access;
    if (!ACCESS_LEVELS.includes(access as RouteAccess)) {
      throw new TauError("TAU_E_INTERNAL", `Route ${String(route.method)} ${route.url} declares no access level (config.access: ${ACCESS_LEVELS.join(" | ")}).`, {
        route: route.url,
      });
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    if (options.mode === "local") {
      request.principal = LOCAL_PRINCIPAL;
      request.tenantId = LOCAL_PRINCIPAL.tenant;
      return;
    }
    // Unmatched requests (404) carry no route config: they need a valid token like any read.
    const access = request.routeOptions.config?.access ?? "read";
    if (access === "public") return;
    try {
      const principal = authenticate(request, options);
      assertAccess(principal, access);
      request.principal = principal;
      request.tenantId = principal.tenant;
      if (isUpgrade(request)) endAtExpiry(request.raw.socket, principal.expiresAt + options.tokens!.clockToleranceSec * 1000);
    } catch (err) {
      if (err instanceof TauError && err.code !== "TAU_E_FORBIDDEN") challenge(reply, err);
      throw err;
    }
  });

  // A refused WebSocket upgrade is answered on the raw socket before @fastify/websocket's own hooks ran, so
  // nothing else closes that socket: close it here, or a client could hold it open and stall shutdown.
  app.addHook("onResponse", async (request) => {
    if (isUpgrade(request) && (request as { ws?: boolean }).ws !== true) request.raw.socket?.destroy();
  });
}

/**
 * A WebSocket outlives the upgrade that checked its token: end it when that token stops being accepted, so an
 * expired token receives no more events. The client sees the connection drop, reconnects, and is refused
 * with 401 TAU_E_AUTH_EXPIRED like any request (the dashboard then asks for a new token).
 */
function endAtExpiry(socket: Socket | undefined, endsAt: number): void {
  if (socket === undefined || !Number.isFinite(endsAt)) return;
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    const left = endsAt - Date.now();
    if (left <= 0) return void socket.destroy();
    // setTimeout holds at most 2^31-1 ms (about 24.8 days); tokens may live a year.
    timer = setTimeout(check, Math.min(left, 2 ** 31 - 1)).unref();
  };
  socket.once("close", () => clearTimeout(timer));
  check();
}

function isUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade?.toLowerCase() === "websocket";
}

function authenticate(request: FastifyRequest, options: AuthOptions): Principal {
  const token = bearerToken(request.headers.authorization) ?? websocketToken(request);
  if (token === null) throw new TauError("TAU_E_AUTH_REQUIRED");
  const principal = verified(token, options.tokens!);
  if (!options.tenantExists(principal.tenant)) {
    throw new TauError("TAU_E_AUTH_INVALID", `The token's tenant '${principal.tenant}' does not exist on this instance.`, { reason: "unknown tenant" });
  }
  return principal;
}

/**
 * Verified tokens, by their exact text, until they expire: a client sends the same token on every request, and
 * jsonwebtoken's verify costs far more than the rest of a small request. Only a token that verified is kept;
 * a hit is re-checked against its expiry, and the map is bounded (oldest entry dropped first).
 */
const VERIFIED_CACHE_SIZE = 1024;
const verifiedTokens = new Map<string, { config: TokenConfig; principal: Principal }>();

function verified(token: string, config: TokenConfig): Principal {
  const hit = verifiedTokens.get(token);
  if (hit && hit.config === config && hit.principal.expiresAt > Date.now()) return hit.principal;
  if (hit) verifiedTokens.delete(token);
  const principal = verifyToken(token, config);
  if (verifiedTokens.size >= VERIFIED_CACHE_SIZE) verifiedTokens.delete(verifiedTokens.keys().next().value!);
  verifiedTokens.set(token, { config, principal });
  return principal;
}

/** `Sec-WebSocket-Protocol: tau, tau.bearer.<token>` on an upgrade request. */
function websocketToken(request: FastifyRequest): string | null {
  if (!isUpgrade(request)) return null;
  const header = request.headers["sec-websocket-protocol"];
  if (typeof header !== "string") return null;
  const entry = header
    .split(",")
    .map((p) => p.trim())
    .find((p) => p.startsWith(WS_TOKEN_PREFIX));
  return entry ? entry.slice(WS_TOKEN_PREFIX.length) : null;
}

function challenge(reply: FastifyReply, err: TauError): void {
  const error = err.code === "TAU_E_AUTH_REQUIRED" ? "" : `, error="invalid_token"`;
  reply.header("www-authenticate", `Bearer realm="tau"${error}`);
}
