/** view: create or replace the view; a table in its place is dropped first (as dbt does). */
import type { ViewSpec } from "../../sdk/materializations/spec";
import type { Planner } from "../plan";
import { viewBody } from "./common";

export const view: Planner<ViewSpec> = {
  stagingQuery: () => null,
  plan({ spec, dialect: d, target, targetInfo }) {
    return d.createView(target, targetInfo, viewBody(spec.sourceQuery));
  },
};
