/**
 * Field checks shared by `validateSpec`: identifiers, SQL text, enums, counts. Each check names the field it
 * refused, in an SDK error (TAU_E_MATERIALIZE_CONFIG) with `details.field`, `details.config` and a hint.
 * Pure: no Node imports, and only captured built-ins (a pipeline may have patched the prototypes), so the
 * guest's config classes and the host's bridge operation run the same checks.
 */
import { createSdkError, type TauSdkError } from "../errors";
import { capString, safeString } from "../json";
import { ArrayIsArray, NumberIsInteger, arrayPush, stringSlice } from "../primordials";

/** Longest identifier part: PostgreSQL silently truncates past 63 bytes, so Tau refuses instead. */
export const IDENTIFIER_MAX = 63;
/** Largest sourceQuery, in UTF-16 units. */
export const SOURCE_QUERY_MAX = 256 * 1024;
/** Largest single hook statement, and how many hooks each of preHook/postHook may hold. */
export const HOOK_MAX = 64 * 1024;
export const HOOKS_MAX = 20;
/** Most columns in a list field (uniqueKey, trackedColumns, clusterBy). */
export const KEY_COLUMNS_MAX = 32;
export const COLUMN_LIST_MAX = 1024;
export const CLUSTER_COLUMNS_MAX = 16;

/** Who is being validated: the config class, or the spec as the host received it. */
export interface Where {
  readonly config: string;
}

export function configError(where: Where, field: string, problem: string, hint: string, extra: Record<string, unknown> = {}): TauSdkError {
  const details: Record<string, unknown> = { field, config: where.config };
  for (const key in extra) details[key] = extra[key];
  return createSdkError("TAU_E_MATERIALIZE_CONFIG", `${where.config}: ${field} ${problem}`, { hint, details });
}

/** A short, safe rendering of a refused value for a message. */
export function shown(value: unknown): string {
  if (typeof value === "string") return `"${capString(value, 80)}"`;
  if (value === null) return "null";
  if (ArrayIsArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return capString(safeString(value), 80);
}

function isIdentifierChar(code: number, first: boolean): boolean {
  if (code === 95) return true; // _
  if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122)) return true;
  return !first && code >= 48 && code <= 57;
}

/** `[A-Za-z_][A-Za-z0-9_]*`, at most IDENTIFIER_MAX long. */
export function isIdentifier(text: string): boolean {
  if (text.length === 0 || text.length > IDENTIFIER_MAX) return false;
  for (let i = 0; i < text.length; i++) if (!isIdentifierChar(text.charCodeAt(i), i === 0)) return false;
  return true;
}

/** ASCII lower case (identifiers are ASCII): engines fold or compare names case-insensitively. */
export function foldCase(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : text[i];
  }
  return out;
}

const IDENTIFIER_HINT = `Use a plain SQL name: a letter or _ first, then letters, digits or _ (at most ${IDENTIFIER_MAX} characters), e.g. "updated_at".`;

export function column(where: Where, field: string, value: unknown): string {
  if (typeof value !== "string") throw configError(where, field, `must be a column name (a string), got ${shown(value)}.`, IDENTIFIER_HINT);
  if (!isIdentifier(value)) throw configError(where, field, `is not a valid column name: ${shown(value)}.`, IDENTIFIER_HINT);
  return value;
}

export function optionalColumn(where: Where, field: string, value: unknown): string | null {
  return value === undefined || value === null ? null : column(where, field, value);
}

export function columnOr(where: Where, field: string, value: unknown, fallback: string): string {
  return value === undefined || value === null ? fallback : column(where, field, value);
}

/** `table` or `schema.table`, each part an identifier. */
export function tableName(where: Where, field: string, value: unknown): string {
  const hint = `Name the table as "schema.table" or "table", e.g. "analytics.orders"; each part a letter or _ first, then letters, digits or _ (at most ${IDENTIFIER_MAX} characters).`;
  if (typeof value !== "string" || value === "") throw configError(where, field, `must be the target table's name as a non-empty string, got ${shown(value)}.`, hint);
  let dot = -1;
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) !== 46) continue;
    if (dot >= 0) throw configError(where, field, `has more than two parts: ${shown(value)}.`, hint);
    dot = i;
  }
  const parts = dot < 0 ? [value] : [stringSlice(value, 0, dot), stringSlice(value, dot + 1)];
  for (let i = 0; i < parts.length; i++) {
    if (!isIdentifier(parts[i]!)) throw configError(where, field, `is not a valid table name: ${shown(value)}.`, hint);
  }
  return value;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11) return false;
  }
  return true;
}

/** Drops trailing whitespace and semicolons: the engine embeds the SQL in its own statements. */
function trimStatementEnd(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c === 59 || c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) end--;
    else break;
  }
  return end === text.length ? text : stringSlice(text, 0, end);
}

export function sqlText(where: Where, field: string, value: unknown, max: number, example: string): string {
  const hint = `Pass the SQL as a non-empty string of at most ${max} characters, e.g. ${example}.`;
  if (typeof value !== "string") throw configError(where, field, `must be SQL text (a string), got ${shown(value)}.`, hint);
  if (value.length > max) throw configError(where, field, `is ${value.length} characters long; the limit is ${max}.`, hint, { limit: max });
  const trimmed = trimStatementEnd(value);
  if (isBlank(trimmed)) throw configError(where, field, "is empty.", hint);
  return trimmed;
}

/** preHook / postHook: a statement or a list of them (normalised to a list). */
export function hooks(where: Where, field: string, value: unknown): string[] {
  const out: string[] = [];
  if (value === undefined || value === null) return out;
  const example = '"CREATE INDEX IF NOT EXISTS orders_day ON analytics.orders (day)"';
  if (typeof value === "string") {
    arrayPush(out, sqlText(where, field, value, HOOK_MAX, example));
    return out;
  }
  if (!ArrayIsArray(value)) {
    throw configError(where, field, `must be a SQL statement or a list of them, got ${shown(value)}.`, `Pass a string or an array of strings, e.g. ${example}.`);
  }
  if (value.length > HOOKS_MAX) {
    throw configError(where, field, `has ${value.length} statements; the limit is ${HOOKS_MAX}.`, "Combine hooks, or run the extra statements with the connector's execute().", { limit: HOOKS_MAX });
  }
  for (let i = 0; i < value.length; i++) arrayPush(out, sqlText(where, `${field}[${i}]`, value[i], HOOK_MAX, example));
  return out;
}

/**
 * A column or a list of columns (normalised to a list; duplicates refused). `required` refuses absence;
 * an empty list is refused (omit the field instead) unless `emptyMeansAll` (trackedColumns, clusterBy: the
 * spec's own "none given" value is `[]`).
 */
export function columnList(where: Where, field: string, value: unknown, max: number, required: string | null, emptyMeansAll = false): string[] | null {
  if (value === undefined || value === null) {
    if (required !== null) throw configError(where, field, `is required ${required}.`, `Pass the column (or list of columns) that identifies a row, e.g. ${field}: "id" or ${field}: ["tenant_id", "id"].`);
    return null;
  }
  const out: string[] = [];
  if (typeof value === "string") {
    arrayPush(out, column(where, field, value));
    return out;
  }
  const listHint = `Pass a column name or a list of them, e.g. ${field}: ["tenant_id", "id"].`;
  if (!ArrayIsArray(value)) throw configError(where, field, `must be a column name or a list of column names, got ${shown(value)}.`, listHint);
  if (value.length === 0) {
    if (emptyMeansAll) return out;
    throw configError(where, field, "is an empty list.", required !== null ? listHint : `${listHint} Omit ${field} when there is none.`);
  }
  if (value.length > max) throw configError(where, field, `lists ${value.length} columns; the limit is ${max}.`, listHint, { limit: max });
  const seen: Record<string, true> = {};
  for (let i = 0; i < value.length; i++) {
    const name = column(where, `${field}[${i}]`, value[i]);
    const folded = foldCase(name);
    if (seen[folded] === true) throw configError(where, field, `lists ${shown(name)} twice.`, "List each column once (names are compared case-insensitively).");
    seen[folded] = true;
    arrayPush(out, name);
  }
  return out;
}

export function oneOf<T extends string>(where: Where, field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  for (let i = 0; i < allowed.length; i++) if (value === allowed[i]) return value as T;
  let list = "";
  for (let i = 0; i < allowed.length; i++) list += `${i === 0 ? "" : ", "}"${allowed[i]}"`;
  throw configError(where, field, `must be one of ${list}; got ${shown(value)}.`, `Use one of ${list} (default "${fallback}").`, { allowed: copyList(allowed) });
}

export function positiveInteger(where: Where, field: string, value: unknown, max: number, example: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !NumberIsInteger(value) || value < 1 || value > max) {
    throw configError(where, field, `must be a whole number from 1 to ${max}, got ${shown(value)}.`, `Pass e.g. ${field}: ${example}, or omit it (null) for no limit.`);
  }
  return value;
}

export function flag(where: Where, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw configError(where, field, `must be true or false, got ${shown(value)}.`, `Pass ${field}: true or ${field}: false (default ${fallback}).`);
  return value;
}

function copyList(list: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) arrayPush(out, list[i]!);
  return out;
}

/** Refuses two fields naming the same column (case-insensitively), e.g. validFromColumn and validToColumn. */
export function distinctColumns(where: Where, named: ReadonlyArray<readonly [field: string, columns: readonly string[] | string | null]>): void {
  const owner: Record<string, string> = {};
  for (let i = 0; i < named.length; i++) {
    const field = named[i]![0];
    const columns = named[i]![1];
    if (columns === null) continue;
    const list: readonly string[] = typeof columns === "string" ? [columns] : columns;
    for (let j = 0; j < list.length; j++) {
      const folded = foldCase(list[j]!);
      const other = owner[folded];
      if (other !== undefined && other !== field) {
        throw configError(where, field, `names ${shown(list[j])}, which ${other} also names.`, `Give ${field} and ${other} different columns (names are compared case-insensitively).`, {
          conflictsWith: other,
        });
      }
      owner[folded] = field;
    }
  }
}
