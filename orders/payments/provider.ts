/**
 * The boundary to a payment service. Guarantees asked of every implementation: `capture` and
 * `refund` are idempotent per idempotency key (a retry returns the first answer and moves money
 * at most once), a capture either succeeds, is declined, or throws PaymentTimeoutError, and the
 * provider remembers every answered capture: `lookupCapture` returns it by idempotency key (how
 * the payment reconciler learns the outcome of a capture whose caller died waiting for it).
 */
export interface CaptureRequest {
  readonly idempotencyKey: string;
  readonly amountMinor: number;
  readonly currency: string;
  /** Card or wallet token from the buyer's browser. */
  readonly token: string;
  /** Our reference (the reservation id), shown in the provider's dashboard. */
  readonly reference: string;
}

export type CaptureResult =
  | { readonly status: "succeeded"; readonly providerRef: string }
  | { readonly status: "declined"; readonly declineCode: string };

export interface RefundRequest {
  readonly idempotencyKey: string;
  readonly providerRef: string;
  readonly amountMinor: number;
}

export interface PaymentProvider {
  readonly name: string;
  /** Throws ValidationError for a token this provider can never accept (before anything is recorded). */
  validateToken(token: string): void;
  capture(request: CaptureRequest): Promise<CaptureResult>;
  /** The answer the provider gave to the capture under this key; undefined if it has none. */
  lookupCapture(idempotencyKey: string): Promise<CaptureResult | undefined>;
  refund(request: RefundRequest): Promise<{ readonly refundRef: string }>;
}
