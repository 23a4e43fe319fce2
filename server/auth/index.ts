/** Hosted mode's authentication: JWT bearer tokens naming a tenant and a role. */
export {
  MAX_TOKEN_TTL_SEC,
  ROLES,
  TOKEN_ALGORITHMS,
  assertAccess,
  bearerToken,
  compileTokenConfig,
  isRole,
  isTenantId,
  issueToken,
  verifyToken,
  type Access,
  type Principal,
  type Role,
  type TokenAlgorithm,
  type TokenConfig,
} from "./tokens";
