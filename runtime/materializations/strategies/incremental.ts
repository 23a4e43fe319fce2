/**
 * incremental (dbt's incremental materialization). The first run builds the table from the source. Later runs
 * stage the source (only rows with `incrementalColumn` above the target's maximum, when set), reconcile the
 * schema per `onSchemaChange`, then apply `incrementalStrategy`:
 * - merge: matched keys updated, others inserted (no key: append); duplicate source keys are refused;
 * - delete+insert: target rows whose key is in the source are deleted, then all source rows inserted
 *   (non-unique keys are fine);
 * - insert_overwrite: target rows in the partitions (`partitionBy` values) present in the source are replaced;
 *   without partitionBy the whole table is replaced;
 * - append: insert everything staged.
 * Keys compare NULL-safely, so a NULL key matches itself and a rerun stays idempotent.
 */
import type { IncrementalSpec } from "../../sdk/materializations/spec";
import { S } from "../dialect";
import { countRows, ddl, dml, type PlanInput, type Planner, type Step } from "../plan";
import { colList, duplicateKeyCheck, incrementalSelect, reconcileSchema, requireTable, resolveColumn, stagedColumns, stagingOf } from "./common";

function insertAll(input: PlanInput, columns: readonly string[]): Step {
  const d = input.dialect;
  const staging = stagingOf(input);
  return dml(d.insertSelect(input.target, columns, `SELECT ${colList(d, S, columns)}\nFROM ${d.rel(staging)} AS ${S}`));
}

export const incremental: Planner<IncrementalSpec> = {
  stagingQuery: (input) => incrementalSelect(input.spec.sourceQuery, input.spec.incrementalColumn, input),

  plan(input) {
    const { spec, dialect: d, target } = input;
    const staging = stagingOf(input);
    requireTable(input);
    const keys = (spec.uniqueKey ?? []).map((k) => resolveColumn(d, input.stagingColumns, k, "uniqueKey"));
    if (spec.incrementalColumn !== null) resolveColumn(d, input.stagingColumns, spec.incrementalColumn, "incrementalColumn");
    const partition = spec.partitionBy === null ? null : resolveColumn(d, input.stagingColumns, spec.partitionBy, "partitionBy");
    const steps: Step[] = [];
    const keyed = keys.length > 0 && spec.incrementalStrategy === "merge";
    if (keyed) steps.push(duplicateKeyCheck(d, staging, keys, target));

    if (!input.targetInfo) {
      steps.push(ddl(d.createTableAs(target, `SELECT * FROM ${d.rel(staging)}`)), countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`));
      return steps;
    }
    const schema = reconcileSchema(d, spec.onSchemaChange, input);
    steps.push(...schema.steps);
    if (keys.length > 0 && spec.incrementalStrategy !== "insert_overwrite" && spec.incrementalStrategy !== "append") {
      steps.push(...d.indexStaging(staging, stagedColumns(input, keys)));
    }
    const columns = schema.columns;

    switch (spec.incrementalStrategy) {
      case "merge":
        if (!keyed) {
          steps.push(insertAll(input, columns));
          break;
        }
        steps.push(
          ...d.merge({ target, staging, keys, columns, updateColumns: columns.filter((c) => !keys.some((k) => d.fold(k) === d.fold(c))) }),
        );
        break;
      case "delete+insert":
        if (keys.length > 0) steps.push(dml(d.deleteMatching(target, staging, keys.map((k) => (c) => c(k)))));
        steps.push(insertAll(input, columns));
        break;
      case "insert_overwrite":
        steps.push(
          dml(partition === null ? d.deleteWhere(target, () => d.bool(true)) : d.deleteMatching(target, staging, [(c) => c(partition)])),
          insertAll(input, columns),
        );
        break;
      case "append":
        steps.push(insertAll(input, columns));
        break;
    }
    return steps;
  },
};
