/**
 * Hash routing: `#/` pipelines, `#/pipelines/NAME`, `#/runs/ID`, `#/dag`, `#/errors`, `#/status`. The
 * server answers index.html for any path, but routes live in the hash so that links work from any page.
 */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { view: "pipelines" }
  | { view: "pipeline"; name: string }
  | { view: "run"; id: string }
  | { view: "dag" }
  | { view: "errors" }
  | { view: "status" }
  | { view: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "pipelines")) return { view: "pipelines" };
  if (parts[0] === "pipelines" && parts.length === 2) return { view: "pipeline", name: parts[1] };
  if (parts[0] === "runs" && parts.length === 2) return { view: "run", id: parts[1] };
  if (parts.length === 1 && (parts[0] === "dag" || parts[0] === "errors" || parts[0] === "status")) return { view: parts[0] };
  return { view: "not-found", path };
}

export const href = {
  pipelines: (): string => "#/",
  pipeline: (name: string): string => `#/pipelines/${encodeURIComponent(name)}`,
  run: (id: string): string => `#/runs/${encodeURIComponent(id)}`,
  dag: (): string => "#/dag",
  errors: (): string => "#/errors",
  status: (): string => "#/status",
};

export function navigate(to: string): void {
  location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
