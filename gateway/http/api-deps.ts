import type { ShadowSwitch, TokenService } from "../../auth/index.ts";
import type { RateLimiter } from "../../core/index.ts";
import type { ReportLimits } from "../../orders/index.ts";

/** What the API routes need beyond the lane each caller's requests go to. */
export interface ApiDeps {
  readonly tokens: TokenService;
  readonly guestTokenTtlS: number;
  /** Per client address, for guest tokens (cheap to ask for, so stricter). */
  readonly guestTokenLimiter: RateLimiter;
  readonly shadowSwitch: ShadowSwitch;
  /** Whether this deployment runs a shadow lane at all. */
  readonly hasShadowLane: boolean;
  /** How long a published draw's read and check is reused, ms (GATEWAY_DRAW_CACHE_MS). */
  readonly drawCacheMs: number;
  /** Report downloads' range and row limits (LIVEDROP_REPORTS_*); absent: the defaults. */
  readonly reportLimits?: ReportLimits;
}
