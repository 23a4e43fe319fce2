/** One planner per strategy. */
import type { Strategy } from "../../sdk/materializations/spec";
import type { Planner } from "../plan";
import { appendOnly } from "./append-only";
import { fullRefresh } from "./full-refresh";
import { incremental } from "./incremental";
import { partitioned } from "./partitioned";
import { scdType1 } from "./scd-type-1";
import { scdType2 } from "./scd-type-2";
import { snapshot } from "./snapshot";
import { view } from "./view";

// Each planner is typed by its own spec; the runner hands it the spec whose `strategy` selected it.
export const PLANNERS: Record<Strategy, Planner<never>> = {
  full_refresh: fullRefresh,
  incremental,
  partitioned,
  scd_type_1: scdType1,
  scd_type_2: scdType2,
  snapshot,
  append_only: appendOnly,
  view,
};

export { expiryCutoff } from "./partitioned";
