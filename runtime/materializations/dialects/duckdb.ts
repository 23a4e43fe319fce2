/**
 * DuckDB: transactional DDL, MERGE INTO (1.4+), `CREATE OR REPLACE TABLE` (atomic inside the run's transaction),
 * one writer per database file (runs on one target are serialised in-process).
 */
import { AnsiDialect } from "../dialect";
import { ddl, type RelationInfo, type Step } from "../plan";
import type { Relation } from "../relation";

export class DuckDbDialect extends AnsiDialect {
  readonly name = "duckdb" as const;
  protected override readonly textType: string = "VARCHAR";

  override fold(column: string): string {
    return column.toLowerCase();
  }

  describe(relation: Relation): string {
    const schema = relation.schema === null ? "current_schema()" : this.str(relation.schema);
    return (
      `SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type\n` +
      `FROM information_schema.tables t\nLEFT JOIN information_schema.columns c\n` +
      `  ON c.table_catalog = t.table_catalog AND c.table_schema = t.table_schema AND c.table_name = t.table_name\n` +
      `WHERE t.table_catalog = current_database() AND t.table_schema = ${schema} AND t.table_name = ${this.str(relation.name)}\n` +
      `ORDER BY c.ordinal_position`
    );
  }

  override replaceTable(target: Relation, info: RelationInfo | null, _build: Relation, select: string): Step[] {
    const steps: Step[] = [];
    if (info?.kind === "view") steps.push(ddl(`DROP VIEW ${this.rel(target)}`));
    steps.push(ddl(`CREATE OR REPLACE TABLE ${this.rel(target)} AS\n${select}`));
    return steps;
  }

  override alterColumnType(relation: Relation, column: { name: string; type: string }): string {
    return (
      `ALTER TABLE ${this.rel(relation)} ALTER COLUMN ${this.quote(column.name)} SET DATA TYPE ${column.type} ` +
      `USING CAST(${this.quote(column.name)} AS ${column.type})`
    );
  }
}
