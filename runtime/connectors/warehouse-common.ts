/**
 * What the three cloud-warehouse drivers (clickhouse, bigquery, snowflake) share on the host: validation of
 * the guest's (hostile) arguments, the egress check after DNS resolution, lazy loading of the heavy SDKs,
 * a per-handle call queue, and `extract` built on a cursor with the row and byte caps (the bridge serves
 * `stream()` itself through each driver's `openCursor`). Each driver keeps its dialect in `<kind>-sql.ts` and its error conversion in `<kind>-errors.ts`.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { checkEgress } from "../../policies";
import { TauError } from "../../server/contract";
import { RawJson, type ConnectorContext, type RowCursor } from "./types";

export type Row = Record<string, unknown>;

export function argsInvalid(message: string, details: Record<string, unknown> = {}): TauError {
  return new TauError("TAU_E_CONNECTOR_ARGS_INVALID", message, details);
}

/** Rejects option keys the kind does not know (a misspelt option is a clear error, not silently ignored). */
export function checkOptionKeys(kind: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw argsInvalid(`${kind} has no option '${key}' (options: ${known.join(", ")}).`, { option: key });
  }
}

export function optionalString(kind: string, options: Record<string, unknown>, key: string): string | undefined {
  const v = options[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") throw argsInvalid(`${kind}'s option '${key}' must be a non-empty string.`, { option: key });
  return v;
}

export function requiredString(kind: string, options: Record<string, unknown>, key: string): string {
  const v = optionalString(kind, options, key);
  if (v === undefined) throw argsInvalid(`${kind} needs the option '${key}'.`, { option: key });
  return v;
}

export function optionalNumber(kind: string, options: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = options[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw argsInvalid(`${kind}'s option '${key}' must be a number from ${min} to ${max}.`, { option: key });
  }
  return v;
}

export function requireSql(value: unknown, method: string): string {
  if (typeof value !== "string" || value.trim() === "") throw argsInvalid(`${method}(sql, params) needs the SQL as a non-empty string.`, { method });
  return value;
}

export type SqlScalar = string | number | boolean | null;

/** Positional query parameters: JSON scalars only (a Date arrives as its ISO text, a BigInt as a decimal string). */
export function requireParams(value: unknown): SqlScalar[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw argsInvalid("Query parameters must be an array, e.g. [42, \"x\"].");
  return value.map((v, i) => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number" && Number.isFinite(v)) return v;
    throw argsInvalid(`Query parameter ${i + 1} must be a string, number, boolean or null.`, { parameter: i + 1 });
  });
}

export interface NamePart {
  name: string;
  quoted: boolean;
}

/**
 * Splits `a.b.c` into parts; a part is a bare identifier or quoted with `quote` (doubled to escape). The
 * dialect decides how many parts it takes and how to quote them back.
 */
export function splitQualifiedName(value: unknown, quote: "`" | '"', maxParts: number): NamePart[] {
  if (typeof value !== "string" || value.length === 0 || value.length > 1024) {
    throw argsInvalid('The table name must be a non-empty string like "orders" or "analytics.orders".');
  }
  const bad = (why: string): TauError => argsInvalid(`Invalid table name ${JSON.stringify(value)}: ${why}.`, { table: value });
  const parts: NamePart[] = [];
  let i = 0;
  for (;;) {
    if (value[i] === quote) {
      let j = i + 1;
      let name = "";
      for (;;) {
        if (j >= value.length) throw bad("unterminated quote");
        if (value[j] === quote) {
          if (value[j + 1] === quote) {
            name += quote;
            j += 2;
            continue;
          }
          break;
        }
        name += value[j++];
      }
      if (name === "") throw bad("empty quoted part");
      parts.push({ name, quoted: true });
      i = j + 1;
    } else {
      const end = value.indexOf(".", i);
      const name = value.slice(i, end === -1 ? value.length : end);
      if (!/^[A-Za-z_][A-Za-z0-9_$-]*$/.test(name)) throw bad(`use letters, digits and '_' (quote other names with ${quote}…${quote})`);
      parts.push({ name, quoted: false });
      i = end === -1 ? value.length : end;
    }
    if (i >= value.length) break;
    if (value[i] !== ".") throw bad("expected '.' between parts");
    i++;
  }
  if (parts.length > maxParts) throw bad(`at most ${maxParts} dot-separated parts`);
  return parts;
}

/**
 * Resolves `host`, checks the tenant's egress policy against the name and every address, and returns the
 * address to connect to (the first one; callers pin their connection to it instead of resolving again).
 */
export async function checkedAddress(ctx: ConnectorContext, kind: string, host: string, port: number): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
    } catch (err) {
      throw new TauError("TAU_E_CONNECTOR_UNREACHABLE", `Cannot resolve ${host} (${(err as NodeJS.ErrnoException).code ?? "DNS error"}).`, { kind, host, port });
    }
  }
  const denial = checkEgress(ctx.policy, { host: bare, port, addresses });
  if (denial) throw new TauError("TAU_E_POLICY_DENIED", denial.message, { rule: denial.rule, kind, host, port });
  return addresses[0];
}

/** The default port of an http(s) URL. */
export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/**
 * Loads a driver module with `import()` at open time, so the daemon and the CLI never load it; a missing
 * module is TAU_E_CONNECTOR_UNAVAILABLE.
 */
export async function loadDriver<T>(kind: string, pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
      throw new TauError("TAU_E_CONNECTOR_UNAVAILABLE", `The ${kind} connector needs the npm package ${pkg}, which is not installed.`, { kind, package: pkg });
    }
    throw err;
  }
}

/** Runs calls of one handle one at a time (a load's staging must not interleave with another call). */
export class CallQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when everything queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** `extract` on top of a cursor: the rows as JSON text, stopping past the policy's row or byte cap. */
export async function collectExtract(cursor: RowCursor, ctx: ConnectorContext, sql: string): Promise<RawJson> {
  const maxRows = ctx.limits.extractRows;
  const maxBytes = ctx.limits.bridgeBytes;
  const parts: string[] = [];
  let rows = 0;
  let bytes = 2;
  try {
    for (;;) {
      const batch = await cursor.next();
      if (batch === null) break;
      rows += batch.length;
      if (rows > maxRows) {
        throw new TauError("TAU_E_CONNECTOR_RESULT_TOO_LARGE", `The query returns more than ${maxRows} rows, the most one extract may return.`, {
          limitRows: maxRows,
          sql: truncateSql(sql),
        });
      }
      if (batch.length === 0) continue;
      const text = JSON.stringify(batch);
      bytes += Buffer.byteLength(text) - 1;
      if (bytes > maxBytes) {
        throw new TauError("TAU_E_BRIDGE_PAYLOAD_TOO_LARGE", `The extract's rows are larger than ${maxBytes} bytes.`, {
          limitBytes: maxBytes,
          rowsRead: rows,
          sql: truncateSql(sql),
        });
      }
      parts.push(text.slice(1, -1));
    }
  } finally {
    await cursor.close();
  }
  return new RawJson(`[${parts.join(",")}]`);
}

export function truncateSql(sql: string, max = 500): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}… [truncated]`;
}

export function truncateText(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}

/** A staging table name unique to this process and load. */
let stageCounter = 0;
export function stageName(): string {
  return `__tau_stage_${process.pid}_${Date.now().toString(36)}_${++stageCounter}`;
}

/** Integer text → number when it is a safe integer, else the text (Tau's rule for big integers). */
export function integerValue(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

