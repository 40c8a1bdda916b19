export { SaleEngine, type SaleEngineOptions } from "./engine.ts";
export { type ScriptCode, scriptError } from "./errors.ts";
export { parseEventMessage } from "./events.ts";
export { type DropKeys, dropIdOfReservation, type KeySpace, keySpace, stateField } from "./keys.ts";
export {
  type DropDefinition,
  dropDefinitionSchema,
  dropFieldsSchema,
  dropIdSchema,
  idempotencyKeySchema,
  LIMITS,
  type Product,
  productSchema,
  type ReserveRequest,
  reservationIdSchema,
  reserveRequestSchema,
  roomIdSchema,
  userIdSchema,
} from "./schema.ts";
export { type ExpirySweeper, startExpirySweeper } from "./sweeper.ts";
export type {
  DropState,
  DropStatus,
  ExpireResult,
  Reservation,
  ReservationRecord,
  ReservationStatus,
  SaleEvent,
  SettleResult,
  StockCounts,
  TransitionResult,
} from "./types.ts";
