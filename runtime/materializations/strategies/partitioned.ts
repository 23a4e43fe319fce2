/**
 * partitioned: a table laid out by `partitionBy` where the engine has a native layout (BigQuery PARTITION BY,
 * ClickHouse MergeTree PARTITION BY, Snowflake CLUSTER BY, Redshift SORTKEY; a plain table on PostgreSQL,
 * DuckDB and MySQL). Each load replaces the partitions present in the source (the column truncated to
 * `partitionGranularity` for date partitions, the value itself for range/list), or merges by `uniqueKey` when
 * one is given; with `incrementalColumn` (and no key), only source rows above the target's maximum are loaded
 * and appended. Afterwards, with `partitionExpirationDays`, rows in partitions older than that are deleted.
 */
import type { PartitionedSpec } from "../../sdk/materializations/spec";
import { S, type PartitionLayout } from "../dialect";
import { countRows, ddl, dml, type Planner, type Step } from "../plan";
import { colList, duplicateKeyCheck, findColumn, incrementalSelect, reconcileSchema, requireTable, resolveColumn, stagedColumns, stagingOf } from "./common";

const DAY_MS = 86_400_000;

/** The start of the oldest partition kept: `now - days`, truncated to the granularity (UTC). */
export function expiryCutoff(now: Date, days: number, granularity: PartitionedSpec["partitionGranularity"]): Date {
  const c = new Date(now.getTime() - days * DAY_MS);
  switch (granularity) {
    case "hour":
      return new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth(), c.getUTCDate(), c.getUTCHours()));
    case "day":
      return new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth(), c.getUTCDate()));
    case "month":
      return new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth(), 1));
    case "year":
      return new Date(Date.UTC(c.getUTCFullYear(), 0, 1));
  }
}

export const partitioned: Planner<PartitionedSpec> = {
  stagingQuery: (input) => incrementalSelect(input.spec.sourceQuery, input.spec.incrementalColumn ?? null, input),

  plan(input) {
    const { spec, dialect: d, target } = input;
    const staging = stagingOf(input);
    requireTable(input);
    const column = resolveColumn(d, input.stagingColumns, spec.partitionBy, "partitionBy");
    const columnType = findColumn(d, input.stagingColumns, column)!.type;
    if (spec.incrementalColumn) resolveColumn(d, input.stagingColumns, spec.incrementalColumn, "incrementalColumn");
    const clusterBy = spec.clusterBy.map((c) => resolveColumn(d, input.stagingColumns, c, "clusterBy"));
    const keys = (spec.uniqueKey ?? []).map((k) => resolveColumn(d, input.stagingColumns, k, "uniqueKey"));
    const layout: PartitionLayout = {
      column,
      columnType,
      type: spec.partitionType,
      granularity: spec.partitionGranularity,
      expirationDays: spec.partitionExpirationDays,
    };
    const partitionOf = (c: (name: string) => string): string =>
      spec.partitionType === "date" ? d.dateTrunc(spec.partitionGranularity, c(column), columnType) : c(column);

    const steps: Step[] = [];
    if (keys.length > 0) steps.push(duplicateKeyCheck(d, staging, keys, target));
    if (!input.targetInfo) {
      steps.push(
        ddl(d.createTableAs(target, `SELECT * FROM ${d.rel(staging)}`, { partition: layout, clusterBy })),
        countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`),
      );
    } else {
      const schema = reconcileSchema(d, "append_new_columns", input);
      steps.push(...schema.steps);
      if (keys.length > 0) {
        steps.push(...d.indexStaging(staging, stagedColumns(input, keys)));
        const updateColumns = schema.columns.filter((c) => !keys.some((k) => d.fold(k) === d.fold(c)));
        steps.push(...d.merge({ target, staging, keys, columns: schema.columns, updateColumns }));
      } else if (spec.incrementalColumn) {
        // Only rows newer than the target's maximum were staged: replacing their partitions with them would drop
        // the partitions' older rows, so they are appended.
        steps.push(dml(d.insertSelect(target, schema.columns, `SELECT ${colList(d, S, schema.columns)}\nFROM ${d.rel(staging)} AS ${S}`)));
      } else {
        steps.push(
          dml(d.deleteMatching(target, staging, [partitionOf])),
          dml(d.insertSelect(target, schema.columns, `SELECT ${colList(d, S, schema.columns)}\nFROM ${d.rel(staging)} AS ${S}`)),
        );
      }
    }
    if (spec.partitionType === "date" && spec.partitionExpirationDays !== null) {
      const cutoff = d.tsFor(expiryCutoff(input.now, spec.partitionExpirationDays, spec.partitionGranularity), columnType);
      steps.push(dml(d.deleteWhere(target, (c) => `${c(column)} < ${cutoff}`)));
    }
    return steps;
  },
};
