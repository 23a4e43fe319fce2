export type { Policy, PolicyLimits, EgressRule } from "./policy";
export { DEFAULT_LIMITS, LOCAL_POLICY, HOSTED_DEFAULT_POLICY } from "./policy";
export type { Denial } from "./evaluate";
export { checkConnector, checkSecret, checkDuckdbPath, wallSecFor, validatePolicy } from "./evaluate";
export { POLICY_SCHEMA } from "./schema";
export type { Destination } from "./egress";
export { checkEgress, cidrContains, parseIp } from "./egress";
