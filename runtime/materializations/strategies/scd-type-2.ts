/**
 * scd_type_2 (dbt's snapshot): full history per key. The current version of a key has `isCurrentColumn` true
 * and `validToColumn` NULL. Each run, in one transaction where the engine allows:
 * 1. a key appearing twice in the source stops the run (TAU_E_MATERIALIZE_DUPLICATE_KEY; dbt #6215 wrote
 *    corrupt history instead);
 * 2. current versions whose tracked columns changed (NULL→value and value→NULL count: dbt #11235) are closed at
 *    the change time: the source's `updatedAtColumn` (timestamp strategy, only when newer than the version's
 *    start) or the run's time (check strategy);
 * 3. with `invalidateHardDeletes`, current versions whose key left the source are closed at the run's time;
 * 4. every source key without a current version (new, changed, or back after a delete) gets one (the last use
 *    of the staged rows: MySQL consumes them, see SqlDialect.insertUnmatched);
 * 5. a final check refuses to commit two current versions of one key (dbt #2034).
 * Keys compare NULL-safely, so a NULL inside a composite key is a key like any other (dbt #11950). A lock per
 * target keeps two runs from interleaving (dbt #4661).
 */
import type { ScdType2Spec } from "../../sdk/materializations/spec";
import { CHECK_LIMIT, S, T } from "../dialect";
import { check, countRows, ddl, dml, type Planner, type Step } from "../plan";
import { displayName } from "../relation";
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

export const scdType2: Planner<ScdType2Spec> = {
  stagingQuery: ({ spec }) => sourceSelect(spec.sourceQuery),

  plan(input) {
    const { spec, dialect: d, target } = input;
    requireRowUpdates(d, spec.strategy);
    const staging = stagingOf(input);
    requireTable(input);
    const keys = spec.uniqueKey.map((k) => resolveColumn(d, input.stagingColumns, k, "uniqueKey"));
    const meta = {
      validFromColumn: spec.validFromColumn,
      validToColumn: spec.validToColumn,
      isCurrentColumn: spec.isCurrentColumn,
      hashColumn: spec.hashColumn,
    };
    for (const [field, name] of Object.entries(meta)) refuseSourceCollision(d, input.stagingColumns, name, field);
    requireTargetColumns(d, input, Object.values(meta));
    const named = (n: string): string => (input.targetInfo ? findColumn(d, input.targetInfo.columns, n)!.name : n);
    const vf = named(spec.validFromColumn);
    const vt = named(spec.validToColumn);
    const cur = named(spec.isCurrentColumn);
    const hash = named(spec.hashColumn);
    const updatedAt = spec.updatedAtColumn === null ? null : resolveColumn(d, input.stagingColumns, spec.updatedAtColumn, "updatedAtColumn");
    const tracked = trackedColumns(d, input.stagingColumns, spec.trackedColumns, keys);

    const now = d.ts(input.now);
    // The change time of a staged row: its updatedAtColumn (timestamp strategy; the run's time when NULL).
    const changeTime = updatedAt === null ? now : d.castTs(`COALESCE(${d.castTs(d.col(S, updatedAt))}, ${now})`);
    const rowHash = d.hash(tracked.map((c) => d.col(S, c)));
    const steps: Step[] = [duplicateKeyCheck(d, staging, keys, target)];

    if (!input.targetInfo) {
      const cols = input.stagingColumns.map((c) => c.name);
      const select =
        `SELECT ${[colList(d, S, cols), `${changeTime} AS ${d.quote(vf)}`, `${d.nullTs()} AS ${d.quote(vt)}`, `${d.bool(true)} AS ${d.quote(cur)}`, `${rowHash} AS ${d.quote(hash)}`].filter(Boolean).join(", ")}\n` +
        `FROM ${d.rel(staging)} AS ${S}`;
      steps.push(ddl(d.createTableAs(target, select)), countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`));
      return steps;
    }

    const schema = reconcileSchema(d, "append_new_columns", input, [vf, vt, cur, hash]);
    steps.push(...schema.steps, ...d.indexStaging(staging, stagedColumns(input, keys)));
    const isCurrent = `${d.col(T, cur)} = ${d.bool(true)}`;
    const newer = updatedAt === null ? "" : ` AND ${changeTime} > ${d.col(T, vf)}`;
    steps.push(
      dml(
        d.updateFrom(target, staging, `${isCurrent} AND ${keyMatch(d, keys)} AND ${anyChanged(d, tracked)}${newer}`, [
          [vt, changeTime],
          [cur, d.bool(false)],
        ]),
      ),
    );
    if (spec.invalidateHardDeletes) {
      steps.push(
        dml(
          d.update(
            target,
            [
              [vt, now],
              [cur, d.bool(false)],
            ],
            `${isCurrent} AND NOT EXISTS (SELECT 1 FROM ${d.rel(staging)} AS ${S} WHERE ${keyMatch(d, keys)})`,
          ),
        ),
      );
    }
    const insertCols = [...schema.columns, vf, vt, cur, hash];
    const values = [...schema.columns.map((c) => d.col(S, c)), changeTime, d.nullTs(), d.bool(true), rowHash];
    steps.push(...d.insertUnmatched(target, staging, insertCols, values, `${isCurrent} AND ${keyMatch(d, keys)}`));
    const k = colList(d, null, keys);
    steps.push(
      check(`SELECT ${k}, COUNT(*) AS tau_current\nFROM ${d.rel(target)}\nWHERE ${d.quote(cur)} = ${d.bool(true)}\nGROUP BY ${k}\nHAVING COUNT(*) > 1\nLIMIT ${CHECK_LIMIT}`, {
        code: "TAU_E_MATERIALIZE_DUPLICATE_KEY",
        message: `The run would leave more than one current row for some keys of ${displayName(target)}; it was rolled back.`,
        detailsKey: "duplicates",
      }),
    );
    return steps;
  },
};
