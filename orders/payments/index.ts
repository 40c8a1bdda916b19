export type { CaptureRequest, CaptureResult, PaymentProvider, RefundRequest } from "./provider.ts";
export { PaymentTimeoutError, SandboxPaymentProvider, SandboxToken } from "./sandbox.ts";
