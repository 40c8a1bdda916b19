import path from "node:path";
import type { Config } from "../../core/index.ts";
import { OrderStore } from "./order-store.ts";
import type { StoreTarget } from "./types.ts";

/** Where the configuration puts orders: DATABASE_URL (PostgreSQL), else PGlite in `<dataDir>/orders`. */
export function orderStoreTarget(cfg: Config): StoreTarget {
  return cfg.DATABASE_URL
    ? { kind: "pg", url: cfg.DATABASE_URL }
    : { kind: "pglite", dataDir: path.join(cfg.dataDir, "orders") };
}

export function openOrderStore(cfg: Config): Promise<OrderStore> {
  return OrderStore.open(orderStoreTarget(cfg));
}
