/** Pieces every planner shares: the staged SELECT, column resolution, key checks and schema reconciliation. */
import { TauError } from "../../../server/contract";
import type { OnSchemaChange } from "../../sdk/materializations/spec";
import { CHECK_LIMIT, S, T, type SqlDialect } from "../dialect";
import { check, ddl, type Column, type PlanInput, type RelationInfo, type Step } from "../plan";
import { displayName, type Relation } from "../relation";

/** The author's query as a derived table; a trailing `;` (common when pasted from a console) is dropped. */
export function sourceSelect(sourceQuery: string, where?: string): string {
  const q = sourceQuery.trim().replace(/;+\s*$/, "");
  return `SELECT * FROM (\n${q}\n) AS tau_source${where ? `\nWHERE ${where}` : ""}`;
}

/**
 * The staged SELECT of strategies with an `incrementalColumn`: once the target exists and has that column, only
 * source rows above the target's maximum (all of them while the target is empty; never rows where it is NULL).
 */
export function incrementalSelect(
  sourceQuery: string,
  incrementalColumn: string | null,
  input: { dialect: SqlDialect; target: Relation; targetInfo: RelationInfo | null },
): string {
  const { dialect: d, target, targetInfo } = input;
  if (incrementalColumn === null || !targetInfo || targetInfo.kind !== "table") return sourceSelect(sourceQuery);
  const col = findColumn(d, targetInfo.columns, incrementalColumn);
  if (!col) return sourceSelect(sourceQuery);
  const max = `(SELECT MAX(${d.quote(col.name)}) FROM ${d.rel(target)})`;
  return sourceSelect(sourceQuery, `${max} IS NULL OR tau_source.${d.quote(col.name)} > ${max}`);
}

export function viewBody(sourceQuery: string): string {
  return sourceQuery.trim().replace(/;+\s*$/, "");
}

export function findColumn(d: SqlDialect, columns: readonly Column[], name: string): Column | undefined {
  const key = d.fold(name);
  return columns.find((c) => d.fold(c.name) === key);
}

/** The columns an SCD compares: `trackedColumns` as resolved, or every staged column that is not a key. */
export function trackedColumns(d: SqlDialect, staged: readonly Column[], trackedNames: readonly string[], keys: readonly string[]): string[] {
  if (trackedNames.length > 0) return trackedNames.map((c) => resolveColumn(d, staged, c, "trackedColumns"));
  return staged.map((c) => c.name).filter((c) => !keys.some((k) => d.fold(k) === d.fold(c)));
}

/** The staged column a config field names, by the engine's case rules; a missing one is a config error. */
export function resolveColumn(d: SqlDialect, columns: readonly Column[], name: string, field: string): string {
  const found = findColumn(d, columns, name);
  if (!found) {
    throw new TauError(
      "TAU_E_MATERIALIZE_CONFIG",
      `${field} names column '${name}', which the source query does not return (it returns: ${columns.map((c) => c.name).join(", ") || "no columns"}).`,
      { field, column: name, sourceColumns: columns.map((c) => c.name) },
    );
  }
  return found.name;
}

/** Columns a strategy maintains itself must not also come from the source. */
export function refuseSourceCollision(d: SqlDialect, columns: readonly Column[], name: string, field: string): void {
  if (findColumn(d, columns, name)) {
    throw new TauError("TAU_E_MATERIALIZE_CONFIG", `${field} '${name}' is also a column of the source query; the engine writes it itself. Rename one of them.`, {
      field,
      column: name,
    });
  }
}

/** SCD types update rows from the staged source: refused up front where the engine cannot (ClickHouse). */
export function requireRowUpdates(d: SqlDialect, strategy: string): void {
  if (!d.updatesRows) {
    throw new TauError(
      "TAU_E_MATERIALIZE_UNSUPPORTED",
      `${strategy} is not supported on ${d.name}: it updates rows from the source (UPDATE … FROM), which ${d.name} cannot do atomically.`,
      { dialect: d.name, what: strategy },
      "Use incremental (merge by uniqueKey) or snapshot on this dialect; docs/materializations.md lists what each dialect supports.",
    );
  }
}

export function requireTable(input: { target: Relation; targetInfo: RelationInfo | null; spec: { strategy: string } }): void {
  if (input.targetInfo?.kind === "view") {
    throw new TauError("TAU_E_MATERIALIZE_TARGET_CONFLICT", `${displayName(input.target)} is a view; strategy ${input.spec.strategy} builds a table.`, {
      target: displayName(input.target),
      found: "view",
    });
  }
}

/** The existing target must carry the columns the strategy maintains (it was built by this strategy). */
export function requireTargetColumns(d: SqlDialect, input: PlanInput, names: readonly string[]): void {
  const info = input.targetInfo;
  if (!info) return;
  const missing = names.filter((n) => !findColumn(d, info.columns, n));
  if (missing.length > 0) {
    throw new TauError(
      "TAU_E_MATERIALIZE_TARGET_CONFLICT",
      `${displayName(input.target)} exists but lacks the column(s) ${missing.join(", ")} that ${input.spec.strategy} maintains; it was not built by this strategy.`,
      { target: displayName(input.target), missing },
    );
  }
}

export function colList(d: SqlDialect, alias: string | null, columns: readonly string[]): string {
  return columns.map((c) => (alias === null ? d.quote(c) : d.col(alias, c))).join(", ");
}

export function keyMatch(d: SqlDialect, keys: readonly string[]): string {
  return d.match(keys.map((k) => [d.col(T, k), d.col(S, k)] as const));
}

/** The staged columns named, with their types (for the staging index MySQL needs). */
export function stagedColumns(input: PlanInput, names: readonly string[]): Column[] {
  return names.map((n) => findColumn(input.dialect, input.stagingColumns, n)!);
}

/** Differs: NULL and a value differ, two NULLs do not. */
export function anyChanged(d: SqlDialect, columns: readonly string[]): string {
  if (columns.length === 0) return d.bool(false);
  return `(${columns.map((c) => `NOT (${d.nullSafeEq(d.col(T, c), d.col(S, c))})`).join(" OR ")})`;
}

/** Stops before any change when the staged source holds a key more than once (GROUP BY treats NULLs as equal). */
export function duplicateKeyCheck(d: SqlDialect, staging: Relation, keys: readonly string[], target: Relation): Step {
  const k = colList(d, null, keys);
  return check(`SELECT ${k}, COUNT(*) AS tau_rows\nFROM ${d.rel(staging)}\nGROUP BY ${k}\nHAVING COUNT(*) > 1\nLIMIT ${CHECK_LIMIT}`, {
    code: "TAU_E_MATERIALIZE_DUPLICATE_KEY",
    message: `The source query returns more than one row for some uniqueKey (${keys.join(", ")}) values; ${displayName(target)} was not changed.`,
    detailsKey: "duplicates",
  });
}

export interface SchemaDiff {
  added: Column[];
  removed: Column[];
  changed: { name: string; from: string; to: string }[];
}

function normType(t: string): string {
  return t.trim().toLowerCase().replace(/\s+/g, " ");
}

export function diffSchema(d: SqlDialect, target: readonly Column[], source: readonly Column[], managed: readonly string[]): SchemaDiff {
  const managedKeys = new Set(managed.map((m) => d.fold(m)));
  const diff: SchemaDiff = { added: [], removed: [], changed: [] };
  for (const s of source) {
    const t = findColumn(d, target, s.name);
    if (!t) diff.added.push(s);
    else if (normType(t.type) !== normType(s.type)) diff.changed.push({ name: t.name, from: t.type, to: s.type });
  }
  for (const t of target) {
    if (!managedKeys.has(d.fold(t.name)) && !findColumn(d, source, t.name)) diff.removed.push(t);
  }
  return diff;
}

export interface Reconciled {
  steps: Step[];
  /** Staged columns to write into the target after the steps ran. */
  columns: string[];
}

/**
 * dbt's on_schema_change: `ignore` writes the columns both sides have; `fail` stops on any difference;
 * `append_new_columns` adds new source columns (old rows stay NULL, none is backfilled); `sync_all_columns` also
 * drops target columns the source lost and changes types that differ.
 */
export function reconcileSchema(
  d: SqlDialect,
  policy: OnSchemaChange,
  input: PlanInput,
  managed: readonly string[] = [],
): Reconciled {
  const targetCols = input.targetInfo?.columns ?? [];
  const diff = diffSchema(d, targetCols, input.stagingColumns, managed);
  const steps: Step[] = [];
  const common = input.stagingColumns.filter((c) => findColumn(d, targetCols, c.name)).map((c) => c.name);
  const changedAnything = diff.added.length + diff.removed.length + diff.changed.length > 0;
  switch (policy) {
    case "ignore":
      return { steps, columns: common };
    case "fail":
      if (changedAnything) {
        throw new TauError(
          "TAU_E_MATERIALIZE_SCHEMA_CHANGED",
          `The source query's columns differ from ${displayName(input.target)}'s (onSchemaChange is 'fail').`,
          {
            target: displayName(input.target),
            added: diff.added.map((c) => c.name),
            removed: diff.removed.map((c) => c.name),
            changed: diff.changed,
          },
        );
      }
      return { steps, columns: common };
    case "append_new_columns":
      for (const c of diff.added) steps.push(ddl(d.addColumn(input.target, c)));
      return { steps, columns: input.stagingColumns.map((c) => c.name) };
    case "sync_all_columns":
      for (const c of diff.added) steps.push(ddl(d.addColumn(input.target, c)));
      for (const c of diff.removed) steps.push(ddl(d.dropColumn(input.target, c.name)));
      for (const c of diff.changed) steps.push(ddl(d.alterColumnType(input.target, { name: c.name, type: c.to })));
      return { steps, columns: input.stagingColumns.map((c) => c.name) };
  }
}

export function stagingOf(input: PlanInput): Relation {
  if (!input.staging) throw new TauError("TAU_E_INTERNAL", "Planner expected a staged source.");
  return input.staging;
}
