import { randomBytes, randomInt, webcrypto } from "node:crypto";
import { createSigner, createVerifier, TOKEN_ERROR_CODES, TokenError } from "fast-jwt";
import { ErrorCode, SetupError, ValidationError, validate } from "../core/index.ts";
import {
  type Claims,
  type IssueInput,
  issueInputSchema,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TOKEN_LIMITS,
  tokenPayloadSchema,
} from "./claims.ts";

const ALG = "HS256";
/** Same floor as GATEWAY_TOKEN_SECRET in core/config.ts. */
const MIN_SECRET_CHARS = 32;

/** Why a token was refused; every reason maps to HTTP 401 or close code 4001. */
export type VerifyFailure =
  | "malformed"
  | "bad_signature"
  | "expired"
  | "wrong_issuer"
  | "wrong_audience"
  | "invalid_claims";

export type VerifyResult =
  | { readonly ok: true; readonly claims: Claims }
  | { readonly ok: false; readonly reason: VerifyFailure };

/**
 * Issues and verifies the gateway's access tokens: JWTs signed with HS256 under one shared
 * secret, so any gateway node verifies what any other issued. verify() never throws on bad
 * input: a refused token is an answer, not an error.
 */
export class TokenService {
  private readonly sign: (payload: Record<string, unknown>) => string;
  private readonly decode: (token: string) => unknown;

  private constructor(
    secret: string,
    private readonly key: webcrypto.CryptoKey,
  ) {
    // Synchronous on purpose: the WebSocket upgrade checks the token before it returns, since
    // uWS 20.30 can drop a socket upgraded later from a promise (a cork misread after the upgrade).
    this.sign = createSigner({ key: secret, algorithm: ALG, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE });
    this.decode = createVerifier({
      key: secret,
      algorithms: [ALG],
      clockTolerance: TOKEN_LIMITS.clockToleranceSeconds * 1000,
      requiredClaims: ["exp", "sub"],
    });
  }

  static async create({ secret }: { secret: string }): Promise<TokenService> {
    if (typeof secret !== "string" || secret.length < MIN_SECRET_CHARS) {
      throw new SetupError(
        ErrorCode.CONFIG_INVALID,
        `token secret must be at least ${MIN_SECRET_CHARS} characters`,
      );
    }
    // Imported once: each sign / verify then skips the key import.
    const key = await webcrypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return new TokenService(secret, key);
  }

  /** Throws ValidationError on bad input (unknown role, bad room id, ttl out of range). */
  async issue(input: IssueInput): Promise<string> {
    const r = validate(issueInputSchema, input, "token request");
    const iat = Math.floor(Date.now() / 1000);
    const token = this.sign({
      sub: r.userId,
      role: r.role,
      rooms: r.rooms,
      name: r.name ?? r.userId.slice(0, 64),
      shadow: r.shadow,
      iat,
      exp: iat + r.ttlSeconds,
    });
    if (token.length > TOKEN_LIMITS.maxTokenChars) {
      throw new ValidationError(`token would be over ${TOKEN_LIMITS.maxTokenChars} characters`);
    }
    return token;
  }

  /** A viewer with a fresh random id and a display name like "Guest 4821". */
  async issueGuest(ttlSeconds: number): Promise<{ token: string; userId: string }> {
    const userId = `guest-${randomBytes(9).toString("base64url")}`;
    const token = await this.issue({
      userId,
      role: "viewer",
      name: `Guest ${randomInt(1000, 10_000)}`,
      ttlSeconds,
    });
    return { token, userId };
  }

  /**
   * The stable pseudonym that replaces an erased user's id in the records kept (orders, payment
   * attempts): `erased-` and 24 hex digits of HMAC-SHA256 under the token secret. The message is
   * prefixed, so it can never be a token's signing input. The same user always gets the same one.
   */
  async pseudonym(userId: string): Promise<string> {
    const mac = await webcrypto.subtle.sign(
      "HMAC",
      this.key,
      new TextEncoder().encode(`pseudonym:${userId}`),
    );
    return `erased-${Buffer.from(mac).toString("hex").slice(0, 24)}`;
  }

  /** check(), for callers that await (HTTP routes). */
  async verify(token: string): Promise<VerifyResult> {
    return this.check(token);
  }

  /** Signature, expiry and required claims first, then issuer, audience and the payload's shape. */
  check(token: string): VerifyResult {
    if (typeof token !== "string" || token.length === 0 || token.length > TOKEN_LIMITS.maxTokenChars) {
      return { ok: false, reason: "malformed" };
    }
    let payload: Record<string, unknown>;
    try {
      payload = this.decode(token) as Record<string, unknown>;
    } catch (err) {
      return { ok: false, reason: failureReason(err) };
    }
    if (payload.iss !== TOKEN_ISSUER) return { ok: false, reason: "wrong_issuer" };
    const aud = payload.aud;
    if (!(aud === TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(TOKEN_AUDIENCE)))) {
      return { ok: false, reason: "wrong_audience" };
    }
    const parsed = tokenPayloadSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, reason: "invalid_claims" };
    const p = parsed.data;
    return {
      ok: true,
      claims: { userId: p.sub, role: p.role, rooms: p.rooms, name: p.name, shadow: p.shadow, exp: p.exp },
    };
  }
}

function failureReason(err: unknown): VerifyFailure {
  const code = err instanceof TokenError ? err.code : undefined;
  if (code === TOKEN_ERROR_CODES.expired) return "expired";
  if (code === TOKEN_ERROR_CODES.invalidSignature) return "bad_signature";
  if (
    code === TOKEN_ERROR_CODES.missingRequiredClaim ||
    code === TOKEN_ERROR_CODES.invalidClaimType ||
    code === TOKEN_ERROR_CODES.invalidClaimValue ||
    code === TOKEN_ERROR_CODES.inactive
  ) {
    return "invalid_claims";
  }
  // Not a JWT, an algorithm other than HS256, or an unknown critical header.
  return "malformed";
}
