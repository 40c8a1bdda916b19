/**
 * The wire protocol shared by the gateway and the browser client. Imports zod and the sale
 * engine's Node-free id schemas only, so the client can bundle it.
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
  chatTextSchema,
  DROP_STATES,
  displayNameSchema,
  dropIdSchema,
  epochSchema,
  idempotencyKeySchema,
  ORDER_STATUSES,
  offsetSchema,
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
export { PROTOCOL_VERSION } from "./version.ts";
