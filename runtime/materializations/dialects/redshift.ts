/**
 * Redshift: PostgreSQL's wire protocol and transactional DDL, SORTKEY instead of partitions, no advisory locks (a
 * `LOCK` on the existing target serialises runs instead). Where Redshift is narrower than PostgreSQL: no
 * `IS NOT DISTINCT FROM` (spelled out), two-argument CONCAT (`||` instead), no alias in UPDATE/DELETE
 * (the target's columns are qualified by the table's name), and MERGE only on plain equality, so keyed merges are a NULL-safe
 * delete + insert of the staged keys inside the run's transaction (the same end state).
 */
import { S, type LockSteps, type MergeInput, type TableLayout } from "../dialect";
import { ddl, dml, type Step } from "../plan";
import type { Relation } from "../relation";
import { PostgresDialect } from "./postgres";

export class RedshiftDialect extends PostgresDialect {
  override readonly name = "redshift" as const;
  override readonly lockNeedsTarget: boolean = true;
  protected override readonly textType: string = "VARCHAR(65535)";

  override lock(target: Relation, _waitSeconds: number): LockSteps {
    // LOCK fails on a missing table: the runner takes it only when the target exists (lockNeedsTarget).
    return { acquire: [ddl(`LOCK TABLE ${this.rel(target)}`)], release: [] };
  }

  protected override tableLayoutClause(layout: TableLayout | undefined): string {
    const keys = [...(layout?.partition ? [layout.partition.column] : []), ...(layout?.clusterBy ?? [])];
    return keys.length > 0 ? ` SORTKEY (${keys.map((k) => this.quote(k)).join(", ")})` : "";
  }

  override nullSafeEq(a: string, b: string): string {
    return `(${a} = ${b} OR (${a} IS NULL AND ${b} IS NULL))`;
  }

  protected override concat(parts: readonly string[]): string {
    return parts.length === 1 ? parts[0]! : `(${parts.join(" || ")})`;
  }

  override updateFrom(target: Relation, staging: Relation, on: string, set: readonly [string, string][]): string {
    return this.unaliasTarget(
      `UPDATE ${this.rel(target)}\nSET ${set.map(([c, e]) => `${this.quote(c)} = ${e}`).join(", ")}\nFROM ${this.rel(staging)} AS ${S}\nWHERE ${on}`,
      target,
    );
  }

  override update(target: Relation, set: readonly [string, string][], where: string): string {
    return this.unaliasTarget(`UPDATE ${this.rel(target)}\nSET ${set.map(([c, e]) => `${this.quote(c)} = ${e}`).join(", ")}\nWHERE ${where}`, target);
  }

  override deleteWhere(target: Relation, where: (column: (name: string) => string) => string): string {
    return `DELETE FROM ${this.rel(target)}\nWHERE ${where((c) => `${this.rel(target)}.${this.quote(c)}`)}`;
  }

  override merge(m: MergeInput): Step[] {
    return [
      dml(this.deleteMatching(m.target, m.staging, m.keys.map((k) => (c) => c(k)))),
      dml(this.insertSelect(m.target, m.columns, `SELECT ${m.columns.map((c) => this.col(S, c)).join(", ")}\nFROM ${this.rel(m.staging)} AS ${S}`)),
    ];
  }

  override alterColumnType(relation: Relation, column: { name: string; type: string }): string {
    return `ALTER TABLE ${this.rel(relation)} ALTER COLUMN ${this.quote(column.name)} TYPE ${column.type}`;
  }
}
