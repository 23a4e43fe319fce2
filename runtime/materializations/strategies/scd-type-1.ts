/**
 * scd_type_1: one row per key, overwritten in place. For keys already present, the tracked columns (default:
 * every non-key column) are updated only when one of them changed (NULL→value and value→NULL count), and only
 * then is `updatedAtColumn` set to the run's time; new keys are inserted with it. Keys are never deleted.
 */
import type { ScdType1Spec } from "../../sdk/materializations/spec";
import { S } from "../dialect";
import { countRows, ddl, dml, type Planner, type Step } from "../plan";
import {
  anyChanged,
  colList,
  duplicateKeyCheck,
  findColumn,
  keyMatch,
  reconcileSchema,
  refuseSourceCollision,
  requireRowUpdates,
  requireTable,
  requireTargetColumns,
  resolveColumn,
  sourceSelect,
  stagedColumns,
  stagingOf,
  trackedColumns,
} from "./common";

export const scdType1: Planner<ScdType1Spec> = {
  stagingQuery: ({ spec }) => sourceSelect(spec.sourceQuery),

  plan(input) {
    const { spec, dialect: d, target } = input;
    requireRowUpdates(d, spec.strategy);
    const staging = stagingOf(input);
    requireTable(input);
    const keys = spec.uniqueKey.map((k) => resolveColumn(d, input.stagingColumns, k, "uniqueKey"));
    const updatedAt = spec.updatedAtColumn;
    if (updatedAt !== null) refuseSourceCollision(d, input.stagingColumns, updatedAt, "updatedAtColumn");
    const tracked = trackedColumns(d, input.stagingColumns, spec.trackedColumns, keys);
    const steps: Step[] = [duplicateKeyCheck(d, staging, keys, target)];
    const stamp = updatedAt === null ? null : d.ts(input.now);

    if (!input.targetInfo) {
      const cols = colList(d, S, input.stagingColumns.map((c) => c.name));
      const select = `SELECT ${cols}${stamp === null ? "" : `, ${stamp} AS ${d.quote(updatedAt!)}`}\nFROM ${d.rel(staging)} AS ${S}`;
      steps.push(ddl(d.createTableAs(target, select)), countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`));
      return steps;
    }
    if (updatedAt !== null) requireTargetColumns(d, input, [updatedAt]);
    const updatedAtName = updatedAt === null ? null : findColumn(d, input.targetInfo.columns, updatedAt)!.name;
    const schema = reconcileSchema(d, "append_new_columns", input, updatedAtName === null ? [] : [updatedAtName]);
    steps.push(...schema.steps, ...d.indexStaging(staging, stagedColumns(input, keys)));
    const set: [string, string][] = tracked.map((c) => [c, d.col(S, c)]);
    if (updatedAtName !== null) set.push([updatedAtName, stamp!]);
    if (tracked.length > 0) {
      steps.push(dml(d.updateFrom(target, staging, `${keyMatch(d, keys)} AND ${anyChanged(d, tracked)}`, set)));
    }
    const insertCols = [...schema.columns, ...(updatedAtName === null ? [] : [updatedAtName])];
    steps.push(...d.insertUnmatched(target, staging, insertCols, [...schema.columns.map((c) => d.col(S, c)), ...(stamp === null ? [] : [stamp])], keyMatch(d, keys)));
    return steps;
  },
};
