/**
 * Response shapes of the insights API (the host console's room figures, the ops overview, the
 * client config). No imports on purpose: the browser client imports these types too. Counters are cumulative since the drop was created;
 * the pages turn them into rates (holds per second, orders per second) between two polls.
 */

export interface GmvLine {
  readonly currency: string;
  readonly minor: number;
}

export interface DropInsight {
  readonly dropId: string;
  readonly title: string;
  readonly state: "scheduled" | "live" | "paused" | "sold_out" | "ended";
  readonly priceMinor: number;
  readonly currency: string;
  /** Initial stock plus restocks. */
  readonly stock: number;
  readonly available: number;
  readonly held: number;
  readonly sold: number;
  /** Buy requests that reached the sale engine (accepted or refused), over every gateway node. */
  readonly buyClicks: number;
  /** Holds placed: each one becomes an order (pending payment first). */
  readonly holds: number;
  readonly paidOrders: number;
  readonly unitsSold: number;
  readonly gmvMinor: number;
  /** Units whose hold ran out unpaid. */
  readonly expiredUnits: number;
  readonly startsAt: number;
}

export interface RoomInsight {
  readonly room: string;
  /** Gateway server time of this snapshot, ms. */
  readonly serverTime: number;
  /** Viewers over every gateway node (as last reported, every ~2 s). */
  readonly viewers: number;
  readonly drops: readonly DropInsight[];
  readonly totals: {
    readonly buyClicks: number;
    readonly holds: number;
    readonly paidOrders: number;
    readonly unitsSold: number;
    readonly expiredUnits: number;
    readonly gmv: readonly GmvLine[];
  };
  /** Paid orders ÷ holds; null before the first hold. */
  readonly conversion: number | null;
}

export interface JobCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
  readonly completed: number;
}

export interface Health {
  readonly gateway: {
    readonly ok: boolean;
    /** Open WebSocket connections on the node that answered. */
    readonly connections: number;
    readonly rssBytes: number;
    readonly uptimeS: number;
    /** Event-loop delay, p99 over the last interval, ms. */
    readonly eventLoopP99Ms: number;
  };
  readonly redis: {
    readonly ok: boolean;
    readonly pingMs: number | null;
    readonly usedMemoryBytes: number | null;
    readonly connectedClients: number | null;
    readonly opsPerSec: number | null;
  };
  readonly queues: {
    readonly ok: boolean;
    readonly orders: JobCounts | null;
    readonly holds: JobCounts | null;
  };
  readonly store: { readonly ok: boolean; readonly pingMs: number | null };
}

export interface OpsOverview {
  readonly serverTime: number;
  readonly rooms: readonly RoomInsight[];
  readonly health: Health;
}

export interface ClientConfigResponse {
  readonly mediaUrl: string;
  readonly protocolVersion: number;
}
