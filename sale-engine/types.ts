import type { DropFormat, FairInfo, Product, WireDropState } from "../protocol/index.ts";

/** What buyers see: host mode combined with the window (server clock) and stock (protocol's list). */
export type DropState = WireDropState;

export interface StockCounts {
  readonly available: number;
  readonly held: number;
  readonly sold: number;
  readonly initial: number;
  readonly restocked: number;
}

export interface DropStatus extends StockCounts {
  readonly dropId: string;
  readonly roomId: string;
  readonly product: Product;
  readonly state: DropState;
  readonly perUserLimit: number;
  readonly holdMs: number;
  /** Server-clock ms epoch. */
  readonly startsAt: number;
  readonly endsAt: number | null;
  readonly createdAt: number;
  /** Version of the last event published for this drop. */
  readonly version: number;
  /** Redis TIME when this snapshot was taken, ms. */
  readonly serverTime: number;
  /** Only on a drop created with a fair window or a raffle: the window and the seed's commitment. */
  readonly fair?: FairInfo;
  /**
   * Only on a first-come drop (a fair window's too) with its waitlist on: tickets handed out and
   * served or skipped; ticket t waits at position t - served.
   */
  readonly waitlist?: WaitlistCounts;
  /** How the drop sells (drops created before formats: `drop`). */
  readonly format: DropFormat;
  /** Only on a buy-it-now drop: it sells while pinned (see SaleEngine.pin). */
  readonly pinned?: boolean;
}

export interface WaitlistCounts {
  readonly length: number;
  readonly served: number;
}

/** What joinWaitlist answers: the user's ticket and how many tickets wait up to it. */
export interface WaitlistTicket {
  readonly dropId: string;
  /** 1-based, in joining order. */
  readonly ticket: number;
  /** ticket - served: 1 is next; 0 once served or skipped. */
  readonly position: number;
  /** The user had this ticket already (one per user per drop). */
  readonly replayed: boolean;
}

/** A user's place in a drop's hand-off queue (waitlistOf). */
export interface WaitlistPosition {
  readonly ticket: number;
  readonly position: number;
  readonly status: "waiting" | "offered" | "skipped";
}

export interface Reservation {
  readonly reservationId: string;
  readonly dropId: string;
  readonly userId: string;
  readonly qty: number;
  /** Payment deadline, server-clock ms epoch. */
  readonly deadline: number;
  /** Units still available right after this hold was placed. */
  readonly available: number;
  /** True when this answer was recorded earlier for the same idempotency key. */
  readonly replayed: boolean;
}

/** A buy in a fair window: an entry of the draw; its result comes with the allocation. */
export interface FairEntry {
  readonly kind: "entered";
  /** SHA-1 hex of `user|idempotencyKey`: the same for a retry with the same key. */
  readonly entryId: string;
  readonly dropId: string;
  readonly userId: string;
  readonly qty: number;
  readonly replayed: boolean;
}

/** What SaleEngine.buy answers: a hold (first come, first served) or a fair-window entry. */
export type BuyResult = ({ readonly kind: "held" } & Reservation) | FairEntry;

export type ReservationStatus = "held" | "confirmed" | "released" | "expired";

export interface ReservationRecord {
  readonly reservationId: string;
  readonly dropId: string;
  readonly userId: string;
  readonly qty: number;
  readonly deadline: number;
  readonly status: ReservationStatus;
  readonly idempotencyKey: string;
  /** The unit price of a hold placed at its own price (an auction's); absent: the product's. */
  readonly priceMinor?: number;
}

export interface SettleResult {
  readonly reservationId: string;
  readonly status: ReservationStatus;
  readonly replayed: boolean;
}

export interface TransitionResult {
  readonly dropId: string;
  readonly state: DropState;
  readonly changed: boolean;
}

/** What pin/unpin answer: the drop's pin now, and whether this call changed it. */
export interface PinResult {
  readonly dropId: string;
  readonly pinned: boolean;
  readonly changed: boolean;
}

export interface ExpireResult {
  readonly dropId: string;
  readonly expired: readonly string[];
  readonly serverTime: number;
  /** The drop has ended and nothing of it is pending: it left the active index. */
  readonly settled: boolean;
}

/** Published on the drop's shard channel for every change; reservation events also go to the outbox. */
export type { ReservationEvent, SaleEvent } from "../protocol/index.ts";
