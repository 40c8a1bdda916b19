export { AuditInbox, type AuditInboxOptions, auditInboxKey, postToAuditInbox } from "./audit-inbox.ts";
export {
  appendAudit,
  listAudit,
  type NewAuditEntry,
  newAuditEntrySchema,
  scrubDetails,
} from "./audit-log.ts";
export { loadMigrations, MIGRATIONS_DIR, type Migration, migrate } from "./migrate.ts";
export { openOrderStore, orderStoreTarget } from "./open.ts";
export { OrderStore } from "./order-store.ts";
export { PgClient, type PgClientOptions } from "./pg-client.ts";
export { PgliteClient } from "./pglite-client.ts";
export { type SqlClient, sqlState } from "./sql-client.ts";
export {
  type AttemptAdvance,
  type CurrencyAmount,
  type DropPage,
  type DropSummary,
  type NewOrder,
  type NewPaymentAttempt,
  newOrderSchema,
  newPaymentAttemptSchema,
  ORDER_LIMITS,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  type Order,
  type OrderCoupon,
  type OrderEvent,
  type OrderFilter,
  type OrderStatus,
  orderFilterSchema,
  PAYMENT_ATTEMPT_MOVES,
  PAYMENT_ATTEMPT_STATUSES,
  type PaymentAttempt,
  type PaymentAttemptStatus,
  type RoomTotals,
  type SettleOutcome,
  type StoreTarget,
  type TransitionOptions,
  type UnfinishedScan,
} from "./types.ts";
