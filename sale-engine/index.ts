export { Auctions, type AuctionsOptions, stepAt } from "./auction.ts";
export { startAuctionPass } from "./auction-pass.ts";
export { AUCTION_DEFAULTS } from "./auction-schema.ts";
export { type CouponOutcome, Coupons, type CouponsOptions } from "./coupons.ts";
export {
  allocate,
  type DrawEntry,
  type DrawInput,
  type DrawResult,
  drawOrder,
  isSeed,
  maskUser,
  newSeed,
  seedHashOf,
  ticketOf,
  type VerifyResult,
  verifyDraw,
} from "./draw.ts";
export { DropEventFeed, type DropEventsHandler } from "./drop-events.ts";
export { SaleEngine, type SaleEngineOptions } from "./engine.ts";
export {
  eraseUserFormatState,
  eraseUserSaleState,
  type FormatErasure,
  SALE_ERASE_DEFAULTS,
  type SaleEraseOptions,
  type SaleErasure,
  type SaleHold,
  type SaleStateTarget,
  userSaleHolds,
} from "./erase.ts";
export { type ScriptCode, scriptError } from "./errors.ts";
export { type DropLogEntry, streamIdSchema } from "./event-log.ts";
export { parseEventMessage } from "./events.ts";
export { drawInputOf, type FairAllocation, type FairDraw, type FairEntryResult } from "./fair.ts";
export { nextWakeMs } from "./fair-pass.ts";
export {
  type EligibleAtDraw,
  isPresenceUnavailable,
  PRESENCE_UNAVAILABLE,
  presenceFlags,
} from "./giveaway.ts";
export { type DropKeys, dropIdOfReservation, type KeySpace, keySpace, stateField } from "./keys.ts";
export { OUTBOX_GROUP, OutboxConsumer, type OutboxEntry } from "./outbox.ts";
export {
  DEFAULTS as SALE_ENGINE_DEFAULTS,
  LIMITS,
  type ReserveRequest,
  reserveRequestSchema,
} from "./schema.ts";
export { ACTIVE_REPAIR_MS, type ExpirySweeper, startExpirySweeper } from "./sweeper.ts";
export type {
  BuyResult,
  DropState,
  DropStatus,
  ExpireResult,
  FairEntry,
  PinResult,
  Reservation,
  ReservationRecord,
  ReservationStatus,
  SaleEvent,
  SettleResult,
  StockCounts,
  TransitionResult,
  WaitlistCounts,
  WaitlistPosition,
  WaitlistTicket,
} from "./types.ts";
