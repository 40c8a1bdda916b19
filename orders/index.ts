export { Checkout, type CheckoutOptions, type PayRequest } from "./checkout.ts";
export { describeStore } from "./describe-store.ts";
export { ensureOrder } from "./ensure-order.ts";
export {
  type CaptureRequest,
  type CaptureResult,
  FAULT_POINTS,
  type FaultPoint,
  memoryLedger,
  type PaymentProvider,
  PaymentTimeoutError,
  type RefundRequest,
  redisLedger,
  type SandboxCapture,
  type SandboxLedger,
  type SandboxOptions,
  SandboxPaymentProvider,
  type SandboxRefund,
  SandboxToken,
} from "./payments/index.ts";
export {
  type OrderJob,
  type OrderQueues,
  type OrderUpdate,
  type OrderUpdateType,
  OutboxRelay,
  openQueues,
  orderChannels,
  type PaymentPass,
  PaymentReconciler,
  type PaymentReconcilerOptions,
  type PipelineOptions,
  QueueName,
  queuePrefix,
  Reconciler,
  type RunningPipeline,
  roomOrderChannel,
  startOrderPipeline,
  userOrderChannel,
} from "./pipeline/index.ts";
export * from "./reports/index.ts";
export * from "./store/index.ts";
