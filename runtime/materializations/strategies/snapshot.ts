/**
 * snapshot: a point-in-time copy of the source per run, stamped with the run's time and id. Rerunning the same
 * run id replaces that run's copy (a retried run does not duplicate it). With `retainSnapshots`, only the newest
 * that many snapshots are kept. New source columns are added (old snapshots stay NULL in them).
 */
import type { SnapshotSpec } from "../../sdk/materializations/spec";
import { S } from "../dialect";
import { countRows, ddl, dml, type Planner, type Step } from "../plan";
import { colList, findColumn, reconcileSchema, refuseSourceCollision, requireTable, requireTargetColumns, sourceSelect, stagingOf } from "./common";

export const snapshot: Planner<SnapshotSpec> = {
  stagingQuery: ({ spec }) => sourceSelect(spec.sourceQuery),

  plan(input) {
    const { spec, dialect: d, target } = input;
    const staging = stagingOf(input);
    requireTable(input);
    refuseSourceCollision(d, input.stagingColumns, spec.snapshotTimestampColumn, "snapshotTimestampColumn");
    refuseSourceCollision(d, input.stagingColumns, spec.snapshotIdColumn, "snapshotIdColumn");
    requireTargetColumns(d, input, [spec.snapshotTimestampColumn, spec.snapshotIdColumn]);
    const tsCol = input.targetInfo ? findColumn(d, input.targetInfo.columns, spec.snapshotTimestampColumn)!.name : spec.snapshotTimestampColumn;
    const idCol = input.targetInfo ? findColumn(d, input.targetInfo.columns, spec.snapshotIdColumn)!.name : spec.snapshotIdColumn;
    const stamp = `${d.ts(input.now)} AS ${d.quote(tsCol)}, ${d.castStr(d.str(input.runId))} AS ${d.quote(idCol)}`;
    const steps: Step[] = [];

    if (!input.targetInfo) {
      const cols = input.stagingColumns.map((c) => c.name);
      steps.push(
        ddl(d.createTableAs(target, `SELECT ${[colList(d, S, cols), stamp].filter(Boolean).join(", ")}\nFROM ${d.rel(staging)} AS ${S}`)),
        countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`),
      );
    } else {
      const schema = reconcileSchema(d, "append_new_columns", input, [tsCol, idCol]);
      steps.push(...schema.steps);
      steps.push(
        dml(d.deleteWhere(target, (c) => `${c(idCol)} = ${d.str(input.runId)}`), false),
        dml(
          d.insertSelect(
            target,
            [...schema.columns, tsCol, idCol],
            `SELECT ${[colList(d, S, schema.columns), stamp].filter(Boolean).join(", ")}\nFROM ${d.rel(staging)} AS ${S}`,
          ),
        ),
      );
    }
    if (spec.retainSnapshots !== null) {
      // The keep-list is a derived table so that MySQL materialises it before deleting from the same table.
      const keep =
        `SELECT tau_k.${d.quote(idCol)} FROM (SELECT ${d.quote(idCol)}, MAX(${d.quote(tsCol)}) AS tau_taken FROM ${d.rel(target)} ` +
        `GROUP BY ${d.quote(idCol)} ORDER BY tau_taken DESC, ${d.quote(idCol)} DESC LIMIT ${spec.retainSnapshots}) AS tau_k`;
      steps.push(dml(d.deleteWhere(target, (c) => `${c(idCol)} NOT IN (${keep})`), false));
    }
    return steps;
  },
};
