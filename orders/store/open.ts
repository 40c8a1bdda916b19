import path from "node:path";
import type { Config } from "../../core/index.ts";
import { OrderStore } from "./order-store.ts";
import type { StoreTarget } from "./types.ts";

/** Schema of the shadow (load-test) order tables when orders live in PostgreSQL. */
export const SHADOW_SCHEMA = "livedrop_shadow";

/**
 * Where the configuration puts orders: DATABASE_URL (PostgreSQL), else PGlite in
 * `<dataDir>/orders`. Shadow (load-test) orders are kept apart: their own schema in PostgreSQL,
 * their own PGlite directory.
 */
export function orderStoreTarget(cfg: Config, lane: "live" | "shadow" = "live"): StoreTarget {
  if (cfg.DATABASE_URL)
    return lane === "live"
      ? { kind: "pg", url: cfg.DATABASE_URL }
      : { kind: "pg", url: cfg.DATABASE_URL, schema: SHADOW_SCHEMA };
  return {
    kind: "pglite",
    dataDir: path.join(cfg.dataDir, lane === "live" ? "orders" : "orders-shadow"),
    sharedBuffersMB: cfg.PGLITE_SHARED_BUFFERS_MB,
  };
}

export function openOrderStore(cfg: Config, lane: "live" | "shadow" = "live"): Promise<OrderStore> {
  return OrderStore.open(orderStoreTarget(cfg, lane));
}
