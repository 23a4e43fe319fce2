/** Input helpers of the hosted-mode commands (tenants, tokens, policy, secrets): stdin and files. */
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { TauError } from "../../server/contract";
import { usageError } from "../exit-codes";

/** All of stdin as text (a secret value or a policy document), without one trailing newline. */
export async function readStdin(stdin: Readable | undefined): Promise<string> {
  const stream = stdin ?? process.stdin;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

export async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TauError("TAU_E_FILE_NOT_FOUND", `Cannot read ${path}${code ? ` (${code})` : ""}.`, { path, cause: code ?? null });
  }
}

export function parseJsonDocument(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${source} is not JSON: ${(err as Error).message}`, { source });
  }
}

/** ACTION positional of a noun command: one of `actions`, else a usage error naming them. */
export function actionOf<T extends string>(command: string, given: string | undefined, actions: readonly T[], fallback: T): T {
  const action = (given ?? fallback) as T;
  if (!actions.includes(action)) throw usageError(`tau ${command}: ACTION must be one of ${actions.join(", ")}.`, { action: given ?? null, actions });
  return action;
}
