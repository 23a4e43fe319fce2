/**
 * full_refresh (dbt's table materialization): build the new relation beside the target and swap it in, so
 * readers never see an empty or half-built table. Each dialect picks its atomic swap (rename inside the run's
 * transaction, RENAME TABLE a TO b, c TO a, CREATE OR REPLACE, EXCHANGE TABLES).
 */
import type { FullRefreshSpec } from "../../sdk/materializations/spec";
import { countRows, type Planner } from "../plan";
import { helperRelation } from "../relation";
import { sourceSelect } from "./common";

export const fullRefresh: Planner<FullRefreshSpec> = {
  stagingQuery: () => null,
  plan({ spec, dialect: d, target, targetInfo, runId }) {
    const build = helperRelation(target, "new", runId);
    return [...d.replaceTable(target, targetInfo, build, sourceSelect(spec.sourceQuery)), countRows(`SELECT COUNT(*) AS n FROM ${d.rel(target)}`)];
  },
};
