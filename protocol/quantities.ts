import { z } from "zod";

/**
 * Quantity and money bounds shared by the wire, the sale engine and the order store, so a number
 * one of them accepts is one the others accept.
 */
export const SALE_LIMITS = {
  /** Units in one buy; also the ceiling of a drop's per-user limit (one buy may take it all). */
  maxBuyQty: 1_000,
  /** Initial stock of one drop, and units in one restock. */
  maxStock: 10_000_000,
  /** Ceiling for initial + restocked of one drop. */
  maxTotalStock: 1_000_000_000,
  /** Unit price, minor currency units. */
  maxPriceMinor: 1_000_000_000_000,
  /** Shortest and longest time a buyer has to pay, ms (a second; a day). */
  minHoldMs: 1_000,
  maxHoldMs: 24 * 60 * 60 * 1000,
} as const;

/** Units in one buy. */
export const buyQtySchema = z.number().int().min(1).max(SALE_LIMITS.maxBuyQty);
/** Units added by one restock. */
export const restockQtySchema = z.number().int().min(1).max(SALE_LIMITS.maxStock);
/** A drop's initial stock (zero allowed: restock later). */
export const initialStockSchema = z.number().int().min(0).max(SALE_LIMITS.maxStock);
/** Units one user may buy from one drop. */
export const perUserLimitSchema = z.number().int().min(1).max(SALE_LIMITS.maxBuyQty);
export const priceMinorSchema = z.number().int().min(0).max(SALE_LIMITS.maxPriceMinor);
export const holdMsSchema = z.number().int().min(SALE_LIMITS.minHoldMs).max(SALE_LIMITS.maxHoldMs);
