/**
 * ClickHouse: `MergeTree()` tables (`PARTITION BY toStartOfDay/toYYYYMM…`, `ORDER BY` the cluster columns,
 * `TTL` for partition expiry), `EXCHANGE TABLES` for an atomic full refresh, lightweight `DELETE` + INSERT for
 * keyed loads, `toString`/`concat`/`MD5` hashing. No multi-statement transactions and no UPDATE … FROM: SCD
 * type 1 and 2 (which update rows from the source) are refused rather than emulated non-atomically.
 */
import type { PartitionGranularity } from "../../sdk/materializations/spec";
import { AnsiDialect, S, T, unsupported, utcDate, utcWallClock, type MergeInput, type PartitionLayout, type TableLayout } from "../dialect";
import { ddl, dml, type Column, type RelationInfo, type Step } from "../plan";
import type { Relation } from "../relation";

const TRUNC: Record<PartitionGranularity, string> = {
  hour: "toStartOfHour",
  day: "toStartOfDay",
  month: "toStartOfMonth",
  year: "toStartOfYear",
};
const PARTITION: Record<PartitionGranularity, (c: string) => string> = {
  hour: (c) => `toStartOfHour(${c})`,
  day: (c) => `toDate(${c})`,
  month: (c) => `toYYYYMM(${c})`,
  year: (c) => `toYear(${c})`,
};

export const CLICKHOUSE_SCD_HINT =
  "Use incremental merge (delete + insert by key) or snapshot on clickhouse; keep history with snapshot and query it with argMax.";

export class ClickHouseDialect extends AnsiDialect {
  readonly name = "clickhouse" as const;
  override readonly transactionalDdl: boolean = false;
  override readonly transaction = null;
  override readonly updatesRows: boolean = false;
  protected override readonly timestampType: string = "DateTime64(3, 'UTC')";
  protected override readonly textType: string = "String";

  override quote(identifier: string): string {
    return "`" + identifier.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
  }

  override str(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  }

  override ts(value: Date): string {
    return `toDateTime64('${utcWallClock(value)}', 3, 'UTC')`;
  }

  override tsFor(value: Date, columnType: string): string {
    return /^(Nullable\()?Date(32)?\)?$/.test(columnType.trim()) ? `toDate('${utcDate(value)}')` : this.ts(value);
  }

  override nullTs(): string {
    return `CAST(NULL AS Nullable(${this.timestampType}))`;
  }

  override bool(value: boolean): string {
    return value ? "true" : "false";
  }

  override nullSafeEq(a: string, b: string): string {
    return `(${a} = ${b} OR (${a} IS NULL AND ${b} IS NULL))`;
  }

  protected override text(expr: string): string {
    return `toString(${expr})`;
  }

  protected override length(expr: string): string {
    return `lengthUTF8(${expr})`;
  }

  protected override concat(parts: readonly string[]): string {
    return `concat(${parts.join(", ")})`;
  }

  protected override md5(expr: string): string {
    return `lower(hex(MD5(${expr})))`;
  }

  override dateTrunc(granularity: PartitionGranularity, expr: string): string {
    return `${TRUNC[granularity]}(${expr})`;
  }

  describe(relation: Relation): string {
    const db = relation.schema === null ? "currentDatabase()" : this.str(relation.schema);
    return (
      `SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type\n` +
      `FROM system.tables AS t\nLEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name\n` +
      `WHERE t.database = ${db} AND t.name = ${this.str(relation.name)}\nORDER BY c.position`
    );
  }

  override parseDescribe(rows: readonly Record<string, unknown>[]): RelationInfo | null {
    // Without join_use_nulls a LEFT JOIN miss yields '' rather than NULL.
    return super.parseDescribe(rows.map((r) => (r.column_name === "" ? { ...r, column_name: null } : r)));
  }

  private partitionExpr(p: PartitionLayout): string {
    return p.type === "date" ? PARTITION[p.granularity](this.quote(p.column)) : this.quote(p.column);
  }

  protected override tableLayoutClause(layout: TableLayout | undefined): string {
    let out = "\nENGINE = MergeTree()";
    const p = layout?.partition;
    if (p) out += `\nPARTITION BY ${this.partitionExpr(p)}`;
    const order = layout?.clusterBy ?? [];
    out += `\nORDER BY ${order.length > 0 ? `(${order.map((c) => this.quote(c)).join(", ")})` : "tuple()"}`;
    if (p?.type === "date" && p.expirationDays != null) {
      out += `\nTTL toDateTime(${this.quote(p.column)}) + INTERVAL ${p.expirationDays} DAY`;
    }
    return out;
  }

  protected override renameTo(from: Relation, toName: string): string {
    return `RENAME TABLE ${this.rel(from)} TO ${this.rel({ schema: from.schema, name: toName })}`;
  }

  override replaceTable(target: Relation, info: RelationInfo | null, build: Relation, select: string): Step[] {
    const steps: Step[] = [ddl(this.dropTable(build)), ddl(this.createTableAs(build, select))];
    if (info?.kind === "table") {
      steps.push(ddl(`EXCHANGE TABLES ${this.rel(build)} AND ${this.rel(target)}`), ddl(this.dropTable(build)));
      return steps;
    }
    if (info?.kind === "view") steps.push(ddl(`DROP VIEW ${this.rel(target)}`));
    steps.push(ddl(this.renameTo(build, target.name)));
    return steps;
  }

  override alterColumnType(relation: Relation, column: Column): string {
    return `ALTER TABLE ${this.rel(relation)} MODIFY COLUMN ${this.quote(column.name)} ${column.type}`;
  }

  override merge(m: MergeInput): Step[] {
    const keys = m.keys.map((k) => this.quote(k)).join(", ");
    return [
      dml(`DELETE FROM ${this.rel(m.target)}\nWHERE (${keys}) IN (SELECT ${keys} FROM ${this.rel(m.staging)})`),
      dml(this.insertSelect(m.target, m.columns, `SELECT ${m.columns.map((c) => this.quote(c)).join(", ")}\nFROM ${this.rel(m.staging)}`)),
    ];
  }

  /** Used only in JOIN ON (anti joins), where ClickHouse accepts the NULL-safe isNotDistinctFrom. */
  override match(pairs: readonly (readonly [string, string])[]): string {
    return pairs.map(([a, b]) => `isNotDistinctFrom(${a}, ${b})`).join(" AND ");
  }

  override insertUnmatched(target: Relation, staging: Relation, columns: readonly string[], values: readonly string[], on: string): Step[] {
    // No correlated subqueries: an anti join.
    return [dml(this.insertSelect(target, columns, `SELECT ${values.join(", ")}\nFROM ${this.rel(staging)} AS ${S}\nLEFT ANTI JOIN ${this.rel(target)} AS ${T} ON ${on}`))];
  }

  override updateFrom(): string {
    throw unsupported("clickhouse", "Updating rows from the source", CLICKHOUSE_SCD_HINT);
  }

  override update(): string {
    throw unsupported("clickhouse", "Updating rows in place", CLICKHOUSE_SCD_HINT);
  }

  override deleteWhere(target: Relation, where: (column: (name: string) => string) => string): string {
    return `DELETE FROM ${this.rel(target)}\nWHERE ${where((c) => this.quote(c))}`;
  }

  override deleteMatching(target: Relation, staging: Relation, exprs: readonly ((column: (name: string) => string) => string)[]): string {
    const bare = exprs.map((e) => e((c) => this.quote(c))).join(", ");
    return this.deleteWhere(target, () => `(${bare}) IN (SELECT ${bare} FROM ${this.rel(staging)})`);
  }
}
