import type { RedisClient } from "../core/index.ts";
import type { Checkout, OrderStore } from "../orders/index.ts";
import type { SaleEngine } from "../sale-engine/index.ts";

/**
 * The shadow (load-test) lane a gateway serves beside the live one: its own sale engine (Redis
 * keys under `<prefix>-shadow`), order store (own tables), sandbox-only checkout, and its own
 * subscriber connection for room events. Traffic whose token carries the shadow claim uses it.
 */
export interface ShadowLane {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly checkout: Checkout;
  readonly keyPrefix: string;
  readonly subscriber: RedisClient;
}
