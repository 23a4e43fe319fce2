/**
 * The staged load every warehouse driver (clickhouse, bigquery, snowflake) runs, with the dialect supplied
 * as `StagedLoadOps`:
 *   1. describe the target (null when missing) — its columns keep their types;
 *   2. per batch: infer each field's value kinds, check them against known columns
 *      (a value that cannot go into a column's type → TAU_E_CONNECTOR_TYPE_MISMATCH naming the column),
 *      give new fields a column type, create or widen a staging table, and bulk-write the batch into it;
 *   3. one finishing step per mode moves the staged rows into the target (append: INSERT … SELECT;
 *      replace: swap; upsert: MERGE or delete+insert) — the dialect documents how atomic that step is.
 * Until step 3 the target is untouched, so a failed load (bad value, lost connection while staging) leaves
 * it as it was. The staging table is dropped at the end either way.
 */
import { TauError } from "../../server/contract";
import { argsInvalid, type Row } from "./warehouse-common";
import type { LoadRequest, RowSource } from "./types";

/** What a JSON value is, for choosing and checking column types. */
export type ValueKind = "bool" | "int" | "float" | "date" | "timestamp" | "string" | "json";
/** What a column's type accepts; "other" (a type Tau does not model) accepts anything and lets the database decide. */
export type TypeFamily = ValueKind | "other";

export interface TargetColumn {
  /** The column's name as the database spells it. */
  name: string;
  /** The database's type name. */
  type: string;
  family: TypeFamily;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** The kind of one non-null value. */
export function kindOf(value: unknown): ValueKind | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "boolean":
      return "bool";
    case "number":
      return Number.isSafeInteger(value) ? "int" : "float";
    case "string":
      if (DATE_RE.test(value)) return "date";
      if (TIMESTAMP_RE.test(value) && !Number.isNaN(Date.parse(value.replace(" ", "T")))) return "timestamp";
      return "string";
    default:
      return "json";
  }
}

/** The kind a new column gets when its values are of `kinds` (mixed kinds fall back to string). */
export function kindForColumn(kinds: ReadonlySet<ValueKind>): ValueKind {
  if (kinds.size === 0) return "string";
  if (kinds.size === 1) return [...kinds][0];
  const has = (k: ValueKind): boolean => kinds.has(k);
  if (kinds.size === 2 && has("int") && has("float")) return "float";
  if (kinds.size === 2 && has("date") && has("timestamp")) return "timestamp";
  return "string";
}

/** Whether a value of `kind` may go into a column of `family`. */
export function accepts(family: TypeFamily, kind: ValueKind): boolean {
  switch (family) {
    case "other":
    case "string":
    case "json":
      return true;
    case "float":
      return kind === "int" || kind === "float";
    case "timestamp":
      return kind === "timestamp" || kind === "date";
    default:
      return family === kind;
  }
}

/** Field name → the kinds of its non-null values, in first-seen order of fields. */
export function inferKinds(rows: readonly Row[]): Map<string, Set<ValueKind>> {
  const seen = new Map<string, Set<ValueKind>>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      let set = seen.get(key);
      if (!set) {
        set = new Set();
        seen.set(key, set);
      }
      const k = kindOf(row[key]);
      if (k) set.add(k);
    }
  }
  return seen;
}

/** The dialect half of a staged load. Statements are built by the pure `<kind>-sql.ts` functions. */
export interface StagedLoadOps {
  /** The target's columns, or null when it does not exist. */
  describeTarget(): Promise<TargetColumn[] | null>;
  /** Column type for a new column of `kind`. */
  typeFor(kind: ValueKind): TargetColumn;
  /** How a row's field name maps onto column names (e.g. Snowflake folds bare names to upper case). */
  columnKey(name: string): string;
  /** Creates the staging table with `columns` (all of the target's plus the new ones). */
  createStage(columns: readonly TargetColumn[], targetExists: boolean): Promise<void>;
  addStageColumns(columns: readonly TargetColumn[]): Promise<void>;
  /** Bulk-writes one batch; `rows[i][j]` is the value of `columns[j]`. */
  writeStage(columns: readonly TargetColumn[], rows: unknown[][]): Promise<void>;
  /** Moves the staged rows into the target. `added` are columns the target lacks. */
  finish(plan: FinishPlan): Promise<void>;
  /** `replace` with no rows: the target ends up empty (atomically). */
  emptyTarget(): Promise<void>;
  dropStage(): Promise<void>;
}

export interface FinishPlan {
  mode: LoadRequest["mode"];
  columns: readonly TargetColumn[];
  /** Columns the target lacks (empty when the target is missing: it is created from `columns`). */
  added: readonly TargetColumn[];
  targetExists: boolean;
  /** Merge key as column names (upsert only). */
  mergeKey: string[];
}

/** Runs a staged load; returns the number of rows loaded. Dialect errors pass through (the caller converts). */
export async function runStagedLoad(source: RowSource, request: LoadRequest, ops: StagedLoadOps): Promise<number> {
  const existing = await ops.describeTarget();
  const columns: TargetColumn[] = existing ? [...existing] : [];
  const byKey = new Map<string, TargetColumn>(columns.map((c) => [ops.columnKey(c.name), c]));
  const existingKeys = new Set(byKey.keys());
  let stageCreated = false;
  let count = 0;
  try {
    for await (const batch of source) {
      if (batch.length === 0) continue;
      const kinds = inferKinds(batch);
      const fresh: TargetColumn[] = [];
      const fieldColumn = new Map<string, TargetColumn>();
      for (const [field, set] of kinds) {
        const key = ops.columnKey(field);
        let col = byKey.get(key);
        if (col) {
          for (const k of set) {
            if (!accepts(col.family, k)) {
              throw new TauError("TAU_E_CONNECTOR_TYPE_MISMATCH", `Column ${col.name} is ${col.type}; field '${field}' has a ${k} value that does not fit.`, {
                column: col.name,
                columnType: col.type,
                valueKind: k,
                table: request.table,
              });
            }
          }
        } else {
          col = { ...ops.typeFor(kindForColumn(set)), name: key };
          byKey.set(key, col);
          columns.push(col);
          fresh.push(col);
        }
        fieldColumn.set(field, col);
      }
      if (!stageCreated) {
        await ops.createStage(columns, existing !== null);
        stageCreated = true;
      } else if (fresh.length > 0) {
        await ops.addStageColumns(fresh);
      }
      const index = new Map(columns.map((c, i) => [c, i]));
      const values = batch.map((row) => {
        const out: unknown[] = new Array(columns.length).fill(null);
        for (const field of Object.keys(row)) {
          const col = fieldColumn.get(field);
          if (col) out[index.get(col)!] = row[field] ?? null;
        }
        return out;
      });
      await ops.writeStage(columns, values);
      count += batch.length;
    }
    const mergeKey = (request.mergeKey ?? []).map((k) => {
      const col = byKey.get(ops.columnKey(k));
      if (!col) {
        throw argsInvalid(`mergeKey column '${k}' is neither in the rows nor in ${request.table}.`, { option: "mergeKey", column: k });
      }
      return col.name;
    });
    if (!stageCreated) {
      if (request.mode === "replace" && existing) await ops.emptyTarget();
      return 0;
    }
    await ops.finish({
      mode: request.mode,
      columns,
      added: existing ? columns.filter((c) => !existingKeys.has(ops.columnKey(c.name))) : [],
      targetExists: existing !== null,
      mergeKey,
    });
    return count;
  } finally {
    if (stageCreated) await ops.dropStage().catch(() => undefined);
  }
}
