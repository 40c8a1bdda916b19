import { createHash } from "node:crypto";
import { ErrorCode, LivedropError, ValidationError } from "../../core/index.ts";
import type { CaptureRequest, CaptureResult, PaymentProvider, RefundRequest } from "./provider.ts";

/** Test tokens of the sandbox, like a card processor's test cards. */
export const SandboxToken = {
  success: "tok_success",
  declined: "tok_declined",
  insufficientFunds: "tok_insufficient_funds",
  timeout: "tok_timeout",
} as const;

export class PaymentTimeoutError extends LivedropError {
  constructor(reference: string) {
    super(ErrorCode.PAYMENT_TIMEOUT, "the payment service did not answer in time; nothing was charged", {
      reference,
    });
  }
}

/**
 * A payment provider for development, tests and load tests: no network, deterministic outcomes
 * by token, idempotent per key (in process memory; the order store keeps the durable record).
 */
export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = "sandbox";
  private readonly captures = new Map<string, CaptureResult>();
  private readonly refunds = new Map<string, { refundRef: string }>();

  constructor(private readonly timeoutMs = 2_000) {}

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    const known = this.captures.get(request.idempotencyKey);
    if (known) return known;
    let result: CaptureResult;
    switch (request.token) {
      case SandboxToken.success:
        result = { status: "succeeded", providerRef: `sbx_ch_${digest(request.idempotencyKey)}` };
        break;
      case SandboxToken.declined:
        result = { status: "declined", declineCode: "card_declined" };
        break;
      case SandboxToken.insufficientFunds:
        result = { status: "declined", declineCode: "insufficient_funds" };
        break;
      case SandboxToken.timeout:
        // Like a real processor that never answers: the caller waits, then gives up.
        await new Promise((resolve) => setTimeout(resolve, this.timeoutMs));
        throw new PaymentTimeoutError(request.reference);
      default:
        throw new ValidationError(
          `unknown sandbox payment token; use one of ${Object.values(SandboxToken).join(", ")}`,
        );
    }
    this.captures.set(request.idempotencyKey, result);
    return result;
  }

  async refund(request: RefundRequest): Promise<{ refundRef: string }> {
    const known = this.refunds.get(request.idempotencyKey);
    if (known) return known;
    const result = { refundRef: `sbx_re_${digest(request.idempotencyKey)}` };
    this.refunds.set(request.idempotencyKey, result);
    return result;
  }
}

function digest(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 20);
}
