/**
 * The CLI's options, read from the environment here and nowhere else.
 *
 *   TAU_HOST   the daemon's base URL (default http://127.0.0.1:7070)
 *   TAU_TOKEN  sent as `Authorization: Bearer …` when set (hosted mode)
 */
import { usageError } from "./exit-codes";

export const DEFAULT_HOST = "http://127.0.0.1:7070";

export interface ClientOptions {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:7070` or `https://tau.example.com/t`. */
  host: string;
  token: string | null;
}

export function resolveClientOptions(env: Record<string, string | undefined>): ClientOptions {
  const raw = env.TAU_HOST?.trim() || DEFAULT_HOST;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`TAU_HOST is not a URL: ${raw}`, { env: "TAU_HOST", value: raw });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`TAU_HOST must be an http:// or https:// URL: ${raw}`, { env: "TAU_HOST", value: raw });
  }
  const host = `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  const token = env.TAU_TOKEN?.trim() || null;
  return { host, token };
}
