export { Checkout, type CheckoutOptions, type PayRequest } from "./checkout.ts";
export { describeStore } from "./describe-store.ts";
export { ensureOrder } from "./ensure-order.ts";
export {
  type CaptureRequest,
  type CaptureResult,
  type PaymentProvider,
  PaymentTimeoutError,
  type RefundRequest,
  SandboxPaymentProvider,
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
  type PipelineOptions,
  QueueName,
  queuePrefix,
  Reconciler,
  type RunningPipeline,
  startOrderPipeline,
  userOrderChannel,
} from "./pipeline/index.ts";
export * from "./store/index.ts";
