/**
 * Snowflake: unquoted names fold to upper case, so simple names are written quoted in upper case (the same
 * object the user's unquoted SQL names) and other names quoted as given; `CREATE OR REPLACE TABLE` (atomic);
 * `CLUSTER BY (DATE_TRUNC(…))` for partitioning (micro-partitions are automatic); `EQUAL_NULL`, `MD5`;
 * DDL commits, DML is grouped in BEGIN … COMMIT; the target of UPDATE/DELETE is named, not aliased.
 */
import type { PartitionGranularity } from "../../sdk/materializations/spec";
import { AnsiDialect, S, utcWallClock, type TableLayout } from "../dialect";
import { ddl, type Column, type RelationInfo, type Step } from "../plan";
import type { Relation } from "../relation";

const SIMPLE = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export class SnowflakeDialect extends AnsiDialect {
  readonly name = "snowflake" as const;
  override readonly transactionalDdl: boolean = false;
  protected override readonly timestampType: string = "TIMESTAMP_NTZ";
  protected override readonly textType: string = "VARCHAR";

  /**
   * A simple all-lower-case name is how people write unquoted Snowflake names (stored upper case); any other
   * name, including every name read back from the catalog, is taken exactly.
   */
  private stored(identifier: string): string {
    return SIMPLE.test(identifier) && identifier === identifier.toLowerCase() ? identifier.toUpperCase() : identifier;
  }

  override quote(identifier: string): string {
    return `"${this.stored(identifier).replace(/"/g, '""')}"`;
  }

  override fold(column: string): string {
    return this.stored(column);
  }

  override str(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
  }

  override ts(value: Date): string {
    return `CAST('${utcWallClock(value)}' AS TIMESTAMP_NTZ)`;
  }

  override nullSafeEq(a: string, b: string): string {
    return `EQUAL_NULL(${a}, ${b})`;
  }

  override dateTrunc(granularity: PartitionGranularity, expr: string): string {
    return `DATE_TRUNC('${granularity.toUpperCase()}', ${expr})`;
  }

  describe(relation: Relation): string {
    const schema = relation.schema === null ? "CURRENT_SCHEMA()" : this.str(this.stored(relation.schema));
    return (
      `SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"\n` +
      `FROM information_schema.tables t\nLEFT JOIN information_schema.columns c\n` +
      `  ON c.table_schema = t.table_schema AND c.table_name = t.table_name\n` +
      `WHERE t.table_schema = ${schema} AND t.table_name = ${this.str(this.stored(relation.name))}\n` +
      `ORDER BY c.ordinal_position`
    );
  }

  protected override tableLayoutClause(layout: TableLayout | undefined): string {
    const keys: string[] = [];
    const p = layout?.partition;
    if (p) keys.push(p.type === "date" ? this.dateTrunc(p.granularity, this.quote(p.column)) : this.quote(p.column));
    for (const c of layout?.clusterBy ?? []) keys.push(this.quote(c));
    return keys.length > 0 ? `\nCLUSTER BY (${keys.join(", ")})` : "";
  }

  override replaceTable(target: Relation, info: RelationInfo | null, _build: Relation, select: string): Step[] {
    const steps: Step[] = [];
    if (info?.kind === "view") steps.push(ddl(`DROP VIEW ${this.rel(target)}`));
    steps.push(ddl(`CREATE OR REPLACE TABLE ${this.rel(target)} AS\n${select}`));
    return steps;
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
    // No alias in Snowflake's DELETE: columns are qualified by the table's name.
    return `DELETE FROM ${this.rel(target)}\nWHERE ${where((c) => `${this.rel(target)}.${this.quote(c)}`)}`;
  }

  override alterColumnType(relation: Relation, column: Column): string {
    return `ALTER TABLE ${this.rel(relation)} ALTER COLUMN ${this.quote(column.name)} SET DATA TYPE ${column.type}`;
  }
}
