export { FAULT_POINTS, type FaultPoint, faultPointFromConfig, hitFaultPoint } from "./fault-points.ts";
export type { CaptureRequest, CaptureResult, PaymentProvider, RefundRequest } from "./provider.ts";
export {
  PaymentTimeoutError,
  type SandboxCapture,
  type SandboxOptions,
  SandboxPaymentProvider,
  type SandboxRefund,
  SandboxToken,
} from "./sandbox.ts";
export { type LedgerBook, memoryLedger, redisLedger, type SandboxLedger } from "./sandbox-ledger.ts";
export { type SettleDeps, settleCaptured } from "./settle.ts";
