import { z } from "zod";
import { dropFormatSchema } from "./drop-fields.ts";
import { dropStateSchema, epochMsSchema } from "./fields.ts";
import { dropIdSchema, roomIdSchema } from "./ids.ts";

/**
 * Response bodies of the insights API (the host console's room figures, the ops overview, the
 * client config), as zod schemas with their inferred types: the gateway builds them, the browser
 * client reads them. Counters are cumulative since the drop was created; the pages turn them into
 * rates (holds per second, orders per second) between two polls.
 */

const count = z.number().int().min(0);
const currency = z.string().regex(/^[A-Z]{3}$/);

export const gmvLineSchema = z.object({ currency, minor: count });
export type GmvLine = z.infer<typeof gmvLineSchema>;

export const dropInsightSchema = z.object({
  dropId: dropIdSchema,
  title: z.string(),
  state: dropStateSchema,
  /** How it sells: timed drop, auction, giveaway, buy-it-now. */
  format: dropFormatSchema,
  priceMinor: count,
  currency,
  /** Initial stock plus restocks. */
  stock: count,
  available: count,
  held: count,
  sold: count,
  /** Buy requests that reached the sale engine (accepted or refused), over every gateway node. */
  buyClicks: count,
  /** Buys a fair window or raffle took as entries of its draw (new entries; retries not counted). */
  entries: count,
  /** Holds placed: each one becomes an order (pending payment first). */
  holds: count,
  paidOrders: count,
  unitsSold: count,
  /** List price of paid orders (gross). */
  gmvMinor: count,
  /** What the buyers paid: gross less coupon discounts. */
  netGmvMinor: count,
  /** The coupon discounts of paid orders. */
  couponCostMinor: count,
  /** Units whose hold ran out unpaid. */
  expiredUnits: count,
  startsAt: epochMsSchema,
});
export type DropInsight = z.infer<typeof dropInsightSchema>;

export const roomInsightSchema = z.object({
  room: roomIdSchema,
  /** Gateway server time of this snapshot, ms. */
  serverTime: epochMsSchema,
  /** Viewers over every gateway node (as last reported, every ~2 s). */
  viewers: count,
  drops: z.array(dropInsightSchema),
  totals: z.object({
    buyClicks: count,
    entries: count,
    holds: count,
    paidOrders: count,
    unitsSold: count,
    expiredUnits: count,
    gmv: z.array(gmvLineSchema),
    netGmv: z.array(gmvLineSchema),
    couponCost: z.array(gmvLineSchema),
  }),
  /** Paid orders ÷ holds; null before the first hold. */
  conversion: z.number().min(0).nullable(),
});
export type RoomInsight = z.infer<typeof roomInsightSchema>;

export const jobCountsSchema = z.object({
  waiting: count,
  active: count,
  delayed: count,
  failed: count,
  completed: count,
});
export type JobCounts = z.infer<typeof jobCountsSchema>;

const orNull = (s: z.ZodNumber) => s.nullable();

export const healthSchema = z.object({
  gateway: z.object({
    ok: z.boolean(),
    /** Open WebSocket connections on the node that answered. */
    connections: count,
    rssBytes: count,
    uptimeS: z.number().min(0),
    /** Event-loop delay, p99 over the last interval, ms. */
    eventLoopP99Ms: z.number().min(0),
  }),
  redis: z.object({
    ok: z.boolean(),
    pingMs: orNull(z.number().min(0)),
    usedMemoryBytes: orNull(z.number().min(0)),
    connectedClients: orNull(z.number().min(0)),
    opsPerSec: orNull(z.number().min(0)),
  }),
  queues: z.object({
    ok: z.boolean(),
    orders: jobCountsSchema.nullable(),
    holds: jobCountsSchema.nullable(),
  }),
  store: z.object({ ok: z.boolean(), pingMs: orNull(z.number().min(0)) }),
});
export type Health = z.infer<typeof healthSchema>;

export const opsOverviewSchema = z.object({
  serverTime: epochMsSchema,
  rooms: z.array(roomInsightSchema),
  health: healthSchema,
});
export type OpsOverview = z.infer<typeof opsOverviewSchema>;

/** `GET /api/v1/config`: what the browser client needs before it connects. */
export const clientConfigResponseSchema = z.object({
  /** Base URL of the media tier (signaling, SSE, HLS). */
  mediaUrl: z.string().min(1),
  protocolVersion: z.number().int().min(1),
});
export type ClientConfigResponse = z.infer<typeof clientConfigResponseSchema>;
