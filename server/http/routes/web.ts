/**
 * The dashboard at `/`: the static files `web/build.mjs` wrote to `dist/web/`, sent with @fastify/static.
 * Any other GET outside /api answers index.html (the dashboard routes in the URL hash, but a bookmarked or
 * typed path must still open it); unknown /api paths keep answering TAU_E_ROUTE_NOT_FOUND.
 *
 * Registered before the route catalog is installed: these routes are not part of the API document.
 */
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TauError } from "../../contract";

/** Where the built dashboard is: next to the bundled daemon (dist/server → dist/web), or dist/web from source. */
export function defaultWebRoot(): string | null {
  const candidates = [join(__dirname, "..", "web"), join(__dirname, "..", "..", "..", "dist", "web")];
  return candidates.find((dir) => existsSync(join(dir, "index.html"))) ?? null;
}

/**
 * The dashboard only talks to this origin, and pulls no third-party code: a strict policy costs nothing.
 * `style-src 'unsafe-inline'` is for the `style` attributes of the SVG charts and the log list's windowing.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

function securityHeaders(reply: { header(name: string, value: string): unknown }): void {
  reply.header("content-security-policy", CSP);
  reply.header("x-content-type-options", "nosniff");
  reply.header("referrer-policy", "no-referrer");
}

/** A built file's name: flat (esbuild writes no folders here), no dotfiles, no path tricks. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

export async function webRoutes(app: FastifyInstance, root: string | null = defaultWebRoot()): Promise<void> {
  if (root === null) {
    // Built without the dashboard (e.g. taud run from source before `npm run build`): say how to get it.
    app.get("/", { config: { access: "public" } }, async () => {
      throw new TauError("TAU_E_DASHBOARD_NOT_BUILT", undefined, { expected: "dist/web/index.html" });
    });
    return;
  }
  // Only reply.sendFile (ETag, ranges, content types, traversal checks): the "/*" route below decides what
  // to send, so the dashboard adds just that route (and the /api guard before it) to the daemon's table.
  await app.register(fastifyStatic, { root, serve: false, dotfiles: "deny", cacheControl: false, index: false });
  // An unknown /api path is still an API call: on a hosted instance it needs a token like every other (the
  // static files below are public), so an anonymous caller cannot tell which /api paths exist.
  app.get("/api/*", { config: { access: "read" } }, async (request) => {
    const path = request.url.split("?")[0];
    throw new TauError("TAU_E_ROUTE_NOT_FOUND", `No route ${request.method} ${path}.`, { method: request.method, path });
  });
  app.get("/*", { config: { access: "public" } }, async (request, reply) => {
    const path = request.url.split("?")[0];
    if (path === "/api" || path.startsWith("/api/")) {
      throw new TauError("TAU_E_ROUTE_NOT_FOUND", `No route ${request.method} ${path}.`, { method: request.method, path });
    }
    securityHeaders(reply);
    // File names are not content-hashed: let the browser revalidate (ETag) rather than cache stale code.
    reply.header("cache-control", "no-cache");
    const name = path.slice(1);
    if (FILE_NAME.test(name) && existsSync(join(root, name))) return reply.sendFile(name);
    return reply.sendFile("index.html");
  });
}
