/**
 * append_only: add the source's rows to the target. Rows already in the target (equal in every written column,
 * NULLs equal) are skipped, so running the same load twice appends once; duplicates within one load are kept.
 * New source columns are added to the target (old rows stay NULL).
 */
import type { AppendOnlySpec } from "../../sdk/materializations/spec";
import { S } from "../dialect";
import { countRows, type Planner } from "../plan";
import { keyMatch, reconcileSchema, requireTable, sourceSelect, stagedColumns, stagingOf } from "./common";

export const appendOnly: Planner<AppendOnlySpec> = {
  stagingQuery: ({ spec }) => sourceSelect(spec.sourceQuery),
  plan(input) {
    const { dialect: d, target } = input;
    const staging = stagingOf(input);
    requireTable(input);
    if (!input.targetInfo) {
      return [
        { sql: d.createTableAs(target, `SELECT * FROM ${d.rel(staging)}`), kind: "ddl" },
        countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`),
      ];
    }
    const { steps, columns } = reconcileSchema(d, "append_new_columns", input);
    steps.push(...d.indexStaging(staging, stagedColumns(input, columns)));
    steps.push(...d.insertUnmatched(target, staging, columns, columns.map((c) => d.col(S, c)), keyMatch(d, columns)));
    return steps;
  },
};
