/**
 * One object per SQL dialect: everything the planners need that differs between engines (quoting, literals,
 * hashing, catalog queries, DDL, MERGE or its emulation, locks, transactions). Planners are generic and never
 * spell SQL that differs between engines themselves.
 *
 * `AnsiDialect` holds the shape most engines share (PostgreSQL's); each engine overrides what it spells
 * differently. Aliases in correlated statements are always `tau_t` (target) and `tau_s` (staged source).
 */
import { TauError } from "../../server/contract";
import type { Dialect, PartitionGranularity, PartitionType } from "../sdk/materializations/spec";
import { ddl, dml, type Column, type RelationInfo, type Step } from "./plan";
import type { Relation } from "./relation";

export const T = "tau_t";
export const S = "tau_s";

export interface PartitionLayout {
  readonly column: string;
  /** The column's type in the staged source (decides DATE vs TIMESTAMP idioms). */
  readonly columnType: string;
  readonly type: PartitionType;
  readonly granularity: PartitionGranularity;
  readonly expirationDays: number | null;
}

export interface TableLayout {
  readonly partition?: PartitionLayout;
  readonly clusterBy?: readonly string[];
}

export interface LockSteps {
  readonly acquire: Step[];
  readonly release: Step[];
}

export interface MergeInput {
  readonly target: Relation;
  readonly staging: Relation;
  readonly keys: readonly string[];
  /** Columns inserted for new keys. */
  readonly columns: readonly string[];
  /** Columns overwritten for matched keys. */
  readonly updateColumns: readonly string[];
}

export interface SqlDialect {
  readonly name: Dialect;
  /** DDL inside a transaction rolls back (PostgreSQL, Redshift, DuckDB): the whole run is one transaction. */
  readonly transactionalDdl: boolean;
  /** BEGIN/COMMIT/ROLLBACK for DML groups; null: the engine has no multi-statement transactions. */
  readonly transaction: { begin: string; commit: string; rollback: string } | null;
  /** UPDATE … FROM the staged source exists (SCD types 1 and 2 need it). */
  readonly updatesRows: boolean;
  /** The lock statement names the target itself (Redshift's LOCK): taken only once the target exists. */
  readonly lockNeedsTarget: boolean;

  quote(identifier: string): string;
  rel(relation: Relation): string;
  col(alias: string, column: string): string;
  /** Key to compare column names with (engines that fold case compare folded). */
  fold(column: string): string;

  str(value: string): string;
  ts(value: Date): string;
  /** A literal for `value` comparable with a column of `columnType` (DATE columns get a DATE literal). */
  tsFor(value: Date, columnType: string): string;
  castTs(expr: string): string;
  nullTs(): string;
  castStr(expr: string): string;
  bool(value: boolean): string;
  nullSafeEq(a: string, b: string): string;
  /**
   * The pairs are equal, NULL matching NULL, written so the engine can join on it with a hash join (PostgreSQL
   * cannot hash `IS NOT DISTINCT FROM`: it compares an injective text encoding instead).
   */
  match(pairs: readonly (readonly [string, string])[]): string;
  /** md5 hex of an injective text encoding of the values (NULL and '' differ, no separator collisions). */
  hash(exprs: readonly string[]): string;
  dateTrunc(granularity: PartitionGranularity, expr: string, columnType: string): string;

  describe(relation: Relation): string;
  parseDescribe(rows: readonly Record<string, unknown>[]): RelationInfo | null;
  /** Steps that take the target's lock, waiting at most `waitSeconds` for another run to release it. */
  lock(target: Relation, waitSeconds: number): LockSteps;

  createTableAs(relation: Relation, select: string, layout?: TableLayout): string;
  dropTable(relation: Relation): string;
  /** Full refresh: steps that build `select` and make it the target without readers seeing an empty table. */
  replaceTable(target: Relation, info: RelationInfo | null, build: Relation, select: string): Step[];
  createView(target: Relation, info: RelationInfo | null, select: string): Step[];
  addColumn(relation: Relation, column: Column): string;
  dropColumn(relation: Relation, column: string): string;
  alterColumnType(relation: Relation, column: Column): string;

  insertSelect(relation: Relation, columns: readonly string[], select: string): string;
  /** Insert-or-update by key (rows already checked unique per key). */
  merge(input: MergeInput): Step[];
  /** Steps that make matching staged rows on `columns` fast where the engine needs an index for it (MySQL). */
  indexStaging(staging: Relation, columns: readonly Column[]): Step[];
  /**
   * Insert `values` (expressions over staging AS tau_s) into `columns` for the staged rows that have no target
   * row (AS tau_t) where `on` holds. May consume the staged rows (MySQL deletes the matched ones from the
   * staging table first, so that no lookup into the unindexed target is needed): the last use of staging.
   */
  insertUnmatched(target: Relation, staging: Relation, columns: readonly string[], values: readonly string[], on: string): Step[];
  /** UPDATE target AS tau_t … with values from staging AS tau_s where `on` holds. */
  updateFrom(target: Relation, staging: Relation, on: string, set: readonly [string, string][]): string;
  /** UPDATE target AS tau_t SET … WHERE `where` (no join). */
  update(target: Relation, set: readonly [string, string][], where: string): string;
  /** DELETE FROM target WHERE …; `where` gets the function that names a target column in this statement. */
  deleteWhere(target: Relation, where: (column: (name: string) => string) => string): string;
  /**
   * Delete target rows whose expression tuple equals (NULL-safely) that of some staged row; `exprs` are built
   * from a column-naming function so each dialect can qualify (or not) as its DELETE allows.
   */
  deleteMatching(target: Relation, staging: Relation, exprs: readonly ((column: (name: string) => string) => string)[]): string;
}

/** Rows a failed check reports (duplicate keys…): enough to find the cause, small enough for an error. */
export const CHECK_LIMIT = 5;

function isDateOnly(columnType: string): boolean {
  return /^date$/i.test(columnType.trim());
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: the engine's run time, written the same on every dialect. */
export function utcWallClock(d: Date): string {
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

export function utcDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export abstract class AnsiDialect implements SqlDialect {
  abstract readonly name: Dialect;
  readonly transactionalDdl: boolean = true;
  readonly transaction: { begin: string; commit: string; rollback: string } | null = {
    begin: "BEGIN",
    commit: "COMMIT",
    rollback: "ROLLBACK",
  };
  readonly lockNeedsTarget: boolean = false;
  readonly updatesRows: boolean = true;
  protected readonly timestampType: string = "TIMESTAMP";
  protected readonly textType: string = "TEXT";

  quote(identifier: string): string {
    return `"${identifier.replace(/"/g, '""')}"`;
  }

  rel(relation: Relation): string {
    return relation.schema === null ? this.quote(relation.name) : `${this.quote(relation.schema)}.${this.quote(relation.name)}`;
  }

  col(alias: string, column: string): string {
    return `${alias}.${this.quote(column)}`;
  }

  fold(column: string): string {
    return column;
  }

  str(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
  }

  ts(value: Date): string {
    return `TIMESTAMP '${utcWallClock(value)}'`;
  }

  tsFor(value: Date, columnType: string): string {
    return isDateOnly(columnType) ? `DATE '${utcDate(value)}'` : this.ts(value);
  }

  castTs(expr: string): string {
    return `CAST(${expr} AS ${this.timestampType})`;
  }

  nullTs(): string {
    return `CAST(NULL AS ${this.timestampType})`;
  }

  castStr(expr: string): string {
    return `CAST(${expr} AS ${this.textType})`;
  }

  bool(value: boolean): string {
    return value ? "TRUE" : "FALSE";
  }

  nullSafeEq(a: string, b: string): string {
    return `${a} IS NOT DISTINCT FROM ${b}`;
  }

  match(pairs: readonly (readonly [string, string])[]): string {
    return pairs.map(([a, b]) => this.nullSafeEq(a, b)).join(" AND ");
  }

  protected text(expr: string): string {
    return `CAST(${expr} AS ${this.textType})`;
  }

  protected length(expr: string): string {
    return `LENGTH(${expr})`;
  }

  protected concat(parts: readonly string[]): string {
    return `CONCAT(${parts.join(", ")})`;
  }

  protected md5(expr: string): string {
    return `MD5(${expr})`;
  }

  /** Each value becomes `<length>:<text>,` and NULL becomes `~,`: no two different tuples encode the same. */
  protected encode(exprs: readonly string[]): string {
    const parts = exprs.map(
      (e) => `CASE WHEN ${e} IS NULL THEN '~,' ELSE ${this.concat([this.text(this.length(this.text(e))), "':'", this.text(e), "','"])} END`,
    );
    return parts.length === 1 ? parts[0]! : this.concat(parts);
  }

  hash(exprs: readonly string[]): string {
    return this.md5(this.encode(exprs));
  }

  dateTrunc(granularity: PartitionGranularity, expr: string, _columnType: string): string {
    return `DATE_TRUNC('${granularity}', ${expr})`;
  }

  abstract describe(relation: Relation): string;

  parseDescribe(rows: readonly Record<string, unknown>[]): RelationInfo | null {
    if (rows.length === 0) return null;
    const kindText = String(rows[0]!.kind ?? "").toLowerCase();
    const kind = kindText.includes("view") || kindText === "v" || kindText === "m" ? "view" : "table";
    const columns: Column[] = [];
    for (const r of rows) {
      if (r.column_name === null || r.column_name === undefined) continue;
      columns.push({ name: String(r.column_name), type: String(r.data_type) });
    }
    return { kind, columns };
  }

  lock(_target: Relation, _waitSeconds: number): LockSteps {
    return { acquire: [], release: [] };
  }

  protected tableLayoutClause(_layout: TableLayout | undefined): string {
    return "";
  }

  createTableAs(relation: Relation, select: string, layout?: TableLayout): string {
    return `CREATE TABLE ${this.rel(relation)}${this.tableLayoutClause(layout)} AS\n${select}`;
  }

  dropTable(relation: Relation): string {
    return `DROP TABLE IF EXISTS ${this.rel(relation)}`;
  }

  protected dropView(relation: Relation): string {
    return `DROP VIEW IF EXISTS ${this.rel(relation)}`;
  }

  protected renameTo(from: Relation, toName: string): string {
    return `ALTER TABLE ${this.rel(from)} RENAME TO ${this.quote(toName)}`;
  }

  replaceTable(target: Relation, info: RelationInfo | null, build: Relation, select: string): Step[] {
    // Build beside the target, then swap names inside the run's transaction: readers see the old table until
    // COMMIT, then the new one, never an empty or half-built table.
    const steps: Step[] = [ddl(this.dropTable(build)), ddl(this.createTableAs(build, select))];
    if (info?.kind === "view") steps.push(ddl(this.dropView(target)));
    else if (info) {
      const old = { schema: target.schema, name: build.name.replace(/__tau_new_/, "__tau_old_") };
      steps.push(ddl(this.dropTable(old)), ddl(this.renameTo(target, old.name)), ddl(this.renameTo(build, target.name)), ddl(this.dropTable(old)));
      return steps;
    }
    steps.push(ddl(this.renameTo(build, target.name)));
    return steps;
  }

  createView(target: Relation, info: RelationInfo | null, select: string): Step[] {
    const steps: Step[] = [];
    if (info?.kind === "table") steps.push(ddl(this.dropTable(target)));
    steps.push(ddl(`CREATE OR REPLACE VIEW ${this.rel(target)} AS\n${select}`));
    return steps;
  }

  addColumn(relation: Relation, column: Column): string {
    return `ALTER TABLE ${this.rel(relation)} ADD COLUMN ${this.quote(column.name)} ${column.type}`;
  }

  dropColumn(relation: Relation, column: string): string {
    return `ALTER TABLE ${this.rel(relation)} DROP COLUMN ${this.quote(column)}`;
  }

  alterColumnType(relation: Relation, column: Column): string {
    return `ALTER TABLE ${this.rel(relation)} ALTER COLUMN ${this.quote(column.name)} TYPE ${column.type}`;
  }

  insertSelect(relation: Relation, columns: readonly string[], select: string): string {
    return `INSERT INTO ${this.rel(relation)} (${columns.map((c) => this.quote(c)).join(", ")})\n${select}`;
  }

  protected keyMatch(keys: readonly string[]): string {
    return this.match(keys.map((k) => [this.col(T, k), this.col(S, k)] as const));
  }

  merge(m: MergeInput): Step[] {
    const lines = [`MERGE INTO ${this.rel(m.target)} AS ${T}`, `USING ${this.rel(m.staging)} AS ${S}`, `ON ${this.keyMatch(m.keys)}`];
    if (m.updateColumns.length > 0) {
      lines.push(`WHEN MATCHED THEN UPDATE SET ${m.updateColumns.map((c) => `${this.quote(c)} = ${this.col(S, c)}`).join(", ")}`);
    }
    lines.push(
      `WHEN NOT MATCHED THEN INSERT (${m.columns.map((c) => this.quote(c)).join(", ")})`,
      `VALUES (${m.columns.map((c) => this.col(S, c)).join(", ")})`,
    );
    return [dml(lines.join("\n"))];
  }

  indexStaging(_staging: Relation, _columns: readonly Column[]): Step[] {
    return [];
  }

  insertUnmatched(target: Relation, staging: Relation, columns: readonly string[], values: readonly string[], on: string): Step[] {
    return [
      dml(
        this.insertSelect(
          target,
          columns,
          `SELECT ${values.join(", ")}\nFROM ${this.rel(staging)} AS ${S}\nWHERE NOT EXISTS (SELECT 1 FROM ${this.rel(target)} AS ${T} WHERE ${on})`,
        ),
      ),
    ];
  }

  /**
   * For engines whose UPDATE/DELETE take no alias (Redshift, Snowflake): the target's columns, written
   * `tau_t."c"` by the planners, qualified by the table's name instead. Only our own alias prefix matches:
   * column names are always quoted, so `tau_t.` cannot occur inside one.
   */
  protected unaliasTarget(sql: string, target: Relation): string {
    return sql.split(`${T}.`).join(`${this.rel(target)}.`);
  }

  updateFrom(target: Relation, staging: Relation, on: string, set: readonly [string, string][]): string {
    return (
      `UPDATE ${this.rel(target)} AS ${T}\nSET ${set.map(([c, e]) => `${this.quote(c)} = ${e}`).join(", ")}\n` +
      `FROM ${this.rel(staging)} AS ${S}\nWHERE ${on}`
    );
  }

  update(target: Relation, set: readonly [string, string][], where: string): string {
    return `UPDATE ${this.rel(target)} AS ${T}\nSET ${set.map(([c, e]) => `${this.quote(c)} = ${e}`).join(", ")}\nWHERE ${where}`;
  }

  deleteWhere(target: Relation, where: (column: (name: string) => string) => string): string {
    return `DELETE FROM ${this.rel(target)} AS ${T}\nWHERE ${where((c) => this.col(T, c))}`;
  }

  deleteMatching(target: Relation, staging: Relation, exprs: readonly ((column: (name: string) => string) => string)[]): string {
    // The target's columns are named as this dialect's DELETE allows (alias, table name or bare).
    return this.deleteWhere(target, (tc) => {
      const on = this.match(exprs.map((e) => [e(tc), e((c) => this.col(S, c))] as const));
      return `EXISTS (SELECT 1 FROM ${this.rel(staging)} AS ${S} WHERE ${on})`;
    });
  }
}

export function unsupported(dialect: Dialect, what: string, hint?: string): TauError {
  return new TauError("TAU_E_MATERIALIZE_UNSUPPORTED", `${what} is not supported on ${dialect}.`, { dialect, what }, hint);
}
