/** Auth: signed access tokens, the role checks every host and moderator action goes through, and the shadow-traffic kill switch. */
export {
  type Claims,
  type IssueInput,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TOKEN_LIMITS,
} from "./claims.ts";
export { canHost, canModerate, ROLES, type Role, type RoomGrant } from "./roles.ts";
export { resolveTokenSecret } from "./secret.ts";
export { SHADOW_SWITCH_REFRESH_MS, ShadowSwitch } from "./shadow-switch.ts";
export { TokenService, type VerifyFailure, type VerifyResult } from "./tokens.ts";
