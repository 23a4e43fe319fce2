/**
 * BigQuery: `dataset.table` targets, backtick quoting, `CREATE OR REPLACE TABLE` (atomic), native partitioning
 * (`PARTITION BY DATE_TRUNC/TIMESTAMP_TRUNC`, `CLUSTER BY`, `partition_expiration_days`), MERGE, `TO_HEX(MD5())`.
 * Each statement is atomic; statements are not grouped in a transaction because BigQuery only allows that inside
 * one script or session, which a connector's separate jobs are not.
 */
import { TauError } from "../../../server/contract";
import type { PartitionGranularity } from "../../sdk/materializations/spec";
import { AnsiDialect, unsupported, utcDate, utcWallClock, type PartitionLayout, type TableLayout } from "../dialect";
import { ddl, type Column, type RelationInfo, type Step } from "../plan";
import type { Relation } from "../relation";

function family(columnType: string): "date" | "datetime" | "timestamp" | "other" {
  const t = columnType.trim().toUpperCase();
  if (t === "DATE") return "date";
  if (t === "DATETIME") return "datetime";
  if (t === "TIMESTAMP") return "timestamp";
  return "other";
}

export class BigQueryDialect extends AnsiDialect {
  readonly name = "bigquery" as const;
  override readonly transactionalDdl: boolean = false;
  override readonly transaction = null;
  protected override readonly textType: string = "STRING";

  override quote(identifier: string): string {
    return "`" + identifier.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
  }

  override fold(column: string): string {
    return column.toLowerCase();
  }

  override str(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  }

  override ts(value: Date): string {
    return `TIMESTAMP '${utcWallClock(value)}+00'`;
  }

  override tsFor(value: Date, columnType: string): string {
    switch (family(columnType)) {
      case "date":
        return `DATE '${utcDate(value)}'`;
      case "datetime":
        return `DATETIME '${utcWallClock(value)}'`;
      default:
        return this.ts(value);
    }
  }

  protected override md5(expr: string): string {
    return `TO_HEX(MD5(${expr}))`;
  }

  override dateTrunc(granularity: PartitionGranularity, expr: string, columnType: string): string {
    const unit = granularity.toUpperCase();
    switch (family(columnType)) {
      case "date":
        return granularity === "hour" || granularity === "day" ? expr : `DATE_TRUNC(${expr}, ${unit})`;
      case "datetime":
        return `DATETIME_TRUNC(${expr}, ${unit})`;
      default:
        return `TIMESTAMP_TRUNC(${expr}, ${unit})`;
    }
  }

  private dataset(relation: Relation): string {
    if (relation.schema === null) {
      throw new TauError("TAU_E_MATERIALIZE_CONFIG", "On bigquery, targetTable must name its dataset: `dataset.table`.", {
        field: "targetTable",
        value: relation.name,
      });
    }
    return this.quote(relation.schema);
  }

  describe(relation: Relation): string {
    const ds = this.dataset(relation);
    return (
      `SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type\n` +
      `FROM ${ds}.INFORMATION_SCHEMA.TABLES t\nLEFT JOIN ${ds}.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name\n` +
      `WHERE t.table_name = ${this.str(relation.name)}\nORDER BY c.ordinal_position`
    );
  }

  private partitionClause(p: PartitionLayout): string {
    if (p.type !== "date") {
      // RANGE_BUCKET needs start/end/interval bounds that PartitionedConfig does not carry.
      throw unsupported("bigquery", `partitionType '${p.type}'`, "Use partitionType 'date' on bigquery, or clusterBy the column instead.");
    }
    if (p.granularity === "day" && family(p.columnType) === "timestamp") return `DATE(${this.quote(p.column)})`;
    return this.dateTrunc(p.granularity, this.quote(p.column), p.columnType);
  }

  protected override tableLayoutClause(layout: TableLayout | undefined): string {
    let out = "";
    if (layout?.partition) out += `\nPARTITION BY ${this.partitionClause(layout.partition)}`;
    if (layout?.clusterBy && layout.clusterBy.length > 0) out += `\nCLUSTER BY ${layout.clusterBy.map((c) => this.quote(c)).join(", ")}`;
    if (layout?.partition?.expirationDays != null) out += `\nOPTIONS (partition_expiration_days = ${layout.partition.expirationDays})`;
    return out;
  }

  override replaceTable(target: Relation, info: RelationInfo | null, _build: Relation, select: string): Step[] {
    const steps: Step[] = [];
    if (info?.kind === "view") steps.push(ddl(`DROP VIEW ${this.rel(target)}`));
    steps.push(ddl(`CREATE OR REPLACE TABLE ${this.rel(target)} AS\n${select}`));
    return steps;
  }

  override alterColumnType(relation: Relation, column: Column): string {
    return `ALTER TABLE ${this.rel(relation)} ALTER COLUMN ${this.quote(column.name)} SET DATA TYPE ${column.type}`;
  }
}
