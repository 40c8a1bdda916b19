/** Gateway auth: signed access tokens and the role checks every host and moderator action goes through. */
export {
  type Claims,
  type IssueInput,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TOKEN_LIMITS,
} from "./claims.ts";
export { canHost, canModerate, ROLES, type Role, type RoomGrant } from "./roles.ts";
export { resolveTokenSecret } from "./secret.ts";
export { TokenService, type VerifyFailure, type VerifyResult } from "./tokens.ts";
