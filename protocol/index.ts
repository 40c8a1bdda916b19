/**
 * Every contract that crosses a process: wire frames, ids, drop fields, quantity bounds. Imports
 * zod only, so the browser client bundles it and every server folder may import it.
 */
export {
  CLIENT_FRAME_TYPES,
  type ClientFrame,
  type ClientFrameType,
  clientFrameSchema,
  type HostAction,
  type HostActionKind,
  hostAction,
  hostActionKindSchema,
  type ModerationAction,
  moderationAction,
} from "./client-frames.ts";
export { bestOffset, type ClockEstimate, type ClockSample, clockOffset } from "./clock.ts";
export {
  type DecodeFailure,
  type DecodeResult,
  decodeClientFrame,
  decodeServerFrame,
  encodeServerFrame,
  type FrameData,
} from "./codec.ts";
export { CLOSE_ACTION, type CloseAction, CloseCode, closeAction, WireErrorCode } from "./codes.ts";
export {
  type BuyInput,
  buyBodySchema,
  buyInputSchema,
  type ChatPostInput,
  type CreateDropInput,
  chatPostInputSchema,
  createDropBodySchema,
  createDropInputSchema,
  type DropControlInput,
  dropControlInputSchema,
  type ModerateInput,
  moderateInputSchema,
  type PayInput,
  payBodySchema,
  payInputSchema,
  type RestockInput,
  restockBodySchema,
  restockInputSchema,
} from "./commands.ts";
export { type Decoded, decodeFailure, decodeJson } from "./decode.ts";
export { type DropDefinition, dropDefinitionSchema, dropFieldsSchema, type Product } from "./drop-fields.ts";
export {
  chatTextSchema,
  DROP_STATES,
  displayNameSchema,
  dropIdSchema,
  dropStateSchema,
  epochSchema,
  idempotencyKeySchema,
  ORDER_STATUSES,
  offsetSchema,
  orderStatusSchema,
  paymentTokenSchema,
  productSchema,
  ROLES,
  type Role,
  reqIdSchema,
  reservationIdSchema,
  roleSchema,
  roomIdSchema,
  userIdSchema,
  type WireDropState,
  type WireOrderStatus,
  type WireProduct,
} from "./fields.ts";
export {
  AUDIT_PAGE_MAX,
  auditPageQuerySchema,
  type CreateDropResponse,
  createDropResponseSchema,
  type DropOrdersPage,
  type DropStatusResponse,
  dropOrdersPageSchema,
  dropStatusSchema,
  errorBodySchema,
  type GuestTokenResponse,
  guestTokenResponseSchema,
  type OrderDetailsResponse,
  type OrderResponse,
  orderDetailsResponseSchema,
  orderSchema,
  type ReservationResponse,
  ROOM_DROPS_PAGE_MAX,
  type RoomDropsResponse,
  reservationResponseSchema,
  roomDropsQuerySchema,
  roomDropsResponseSchema,
  SHADOW_TOKEN_LIMITS,
  type ShadowSwitchResponse,
  type ShadowTokensResponse,
  shadowSwitchBodySchema,
  shadowSwitchResponseSchema,
  shadowTokensBodySchema,
  shadowTokensResponseSchema,
  type TransitionResponse,
  transitionResponseSchema,
} from "./http-api.ts";
export type {
  ClientConfigResponse,
  DropInsight,
  GmvLine,
  Health,
  JobCounts,
  OpsOverview,
  RoomInsight,
} from "./insights.ts";
export { WIRE_LIMITS } from "./limits.ts";
export {
  decodeOrderUpdate,
  encodeOrderUpdate,
  ORDER_UPDATE_TYPES,
  type OrderUpdate,
  type OrderUpdateType,
  orderUpdateSchema,
} from "./order-update.ts";
export { decodeOutboxEntry, OUTBOX_FIELD, outboxEventsSchema } from "./outbox.ts";
export {
  buyQtySchema,
  holdMsSchema,
  initialStockSchema,
  perUserLimitSchema,
  priceMinorSchema,
  restockQtySchema,
  SALE_LIMITS,
} from "./quantities.ts";
export {
  type DropRoomEntry,
  decodeRoomLogEntry,
  decodeRoomMessage,
  type RoomChannelMessage,
  type RoomLogEntry,
  type RoomLogEntryType,
  type RoomMessage,
  roomLogEntrySchema,
  roomMessageEnvelopeSchema,
} from "./room-log.ts";
export {
  type ReservationEvent,
  reservationEventSchema,
  type SaleEvent,
  saleEventSchema,
} from "./sale-events.ts";
export {
  type AckResult,
  ackResultSchema,
  type ChatMessage,
  chatMessageSchema,
  type DropSnapshot,
  dropSnapshotSchema,
  type ModerationNoticeAction,
  type ServerFrame,
  type ServerFrameOf,
  type ServerFrameType,
  serverFrameSchema,
} from "./server-frames.ts";
export { NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE } from "./text.ts";
export { PROTOCOL_VERSION } from "./version.ts";
