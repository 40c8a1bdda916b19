import type { DropFormat } from "../protocol/index.ts";
import type { DropStatus } from "../sale-engine/index.ts";

/**
 * What an order takes from its hold and drop: the unit price (the hold's own when it was placed
 * at another price than the product's, e.g. an auction's winning bid) and the selling format.
 */
export function unitPriceOf(hold: { readonly priceMinor?: number | undefined }, drop: DropStatus): number {
  return typeof hold.priceMinor === "number" ? hold.priceMinor : drop.product.priceMinor;
}

/** The drop's format; a drop status from before formats has none: a timed drop. */
export function formatOf(drop: DropStatus): DropFormat {
  return (drop as { readonly format?: DropFormat }).format ?? "drop";
}
