import type { Config } from "../core/index.ts";
import { orderStoreTarget } from "./store/index.ts";

/** What `npm start` prints about the order store (never the database password). */
export function describeStore(cfg: Config): string {
  const target = orderStoreTarget(cfg);
  if (target.kind === "pglite") return `PGlite (embedded) in ${target.dataDir}`;
  const url = new URL(target.url);
  return `PostgreSQL ${url.hostname}:${url.port || "5432"}${url.pathname}`;
}
