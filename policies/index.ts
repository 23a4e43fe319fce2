export type { Policy, PolicyLimits } from "./policy";
export { DEFAULT_LIMITS, LOCAL_POLICY, HOSTED_DEFAULT_POLICY } from "./policy";
export type { Denial } from "./evaluate";
export { checkConnector, checkSecret, checkDuckdbPath, wallSecFor, validatePolicy } from "./evaluate";
