import { createHash } from "node:crypto";
import { ErrorCode, LivedropError, type RedisClient, ValidationError } from "../../core/index.ts";
import type { CaptureRequest, CaptureResult, PaymentProvider, RefundRequest } from "./provider.ts";
import { memoryLedger, redisLedger, type SandboxLedger } from "./sandbox-ledger.ts";

/** Test tokens of the sandbox, like a card processor's test cards. */
export const SandboxToken = {
  success: "tok_success",
  declined: "tok_declined",
  insufficientFunds: "tok_insufficient_funds",
  timeout: "tok_timeout",
} as const;

const TOKENS: readonly string[] = Object.values(SandboxToken);

export class PaymentTimeoutError extends LivedropError {
  constructor(reference: string) {
    super(ErrorCode.PAYMENT_TIMEOUT, "the payment service did not answer in time; nothing was charged", {
      reference,
    });
  }
}

export interface SandboxOptions {
  /** How long a `tok_timeout` capture hangs before it times out, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Where answers are kept. Default: process memory. */
  readonly ledger?: SandboxLedger;
}

/** One row of the sandbox's own books (what a provider dashboard would list). */
export interface SandboxCapture {
  readonly idempotencyKey: string;
  readonly providerRef: string;
  readonly amountMinor: number;
  readonly reference: string;
}
export interface SandboxRefund {
  readonly idempotencyKey: string;
  readonly providerRef: string;
  readonly refundRef: string;
  readonly amountMinor: number;
}

type Stored = CaptureResult & { readonly amountMinor: number; readonly reference: string };

/**
 * A payment provider for development, tests and load tests: no network, deterministic outcomes
 * by token, idempotent per key. Its answers live in a ledger: process memory by default, Redis
 * with `inRedis` (shared by every process of a stack, surviving their crashes).
 */
export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = "sandbox";
  private readonly timeoutMs: number;
  private readonly ledger: SandboxLedger;

  constructor(options: number | SandboxOptions = {}) {
    const o = typeof options === "number" ? { timeoutMs: options } : options;
    this.timeoutMs = o.timeoutMs ?? 2_000;
    this.ledger = o.ledger ?? memoryLedger();
  }

  /** A sandbox whose books are Redis hashes under `<keyPrefix>:sandbox:`. */
  static inRedis(redis: RedisClient, keyPrefix: string, timeoutMs?: number): SandboxPaymentProvider {
    return new SandboxPaymentProvider({ ledger: redisLedger(redis, keyPrefix), timeoutMs });
  }

  validateToken(token: string): void {
    if (!TOKENS.includes(token))
      throw new ValidationError(`unknown sandbox payment token; use one of ${TOKENS.join(", ")}`);
  }

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    const known = await this.lookupCapture(request.idempotencyKey);
    if (known) return known;
    this.validateToken(request.token);
    let result: CaptureResult;
    switch (request.token) {
      case SandboxToken.success:
        result = { status: "succeeded", providerRef: `sbx_ch_${digest(request.idempotencyKey)}` };
        break;
      case SandboxToken.insufficientFunds:
        result = { status: "declined", declineCode: "insufficient_funds" };
        break;
      case SandboxToken.timeout:
        // Like a real processor that never answers: the caller waits, then gives up.
        await new Promise((resolve) => setTimeout(resolve, this.timeoutMs));
        throw new PaymentTimeoutError(request.reference);
      default:
        result = { status: "declined", declineCode: "card_declined" };
    }
    const stored: Stored = { ...result, amountMinor: request.amountMinor, reference: request.reference };
    return toResult(
      JSON.parse(await this.ledger.putIfAbsent("captures", request.idempotencyKey, JSON.stringify(stored))),
    );
  }

  async lookupCapture(idempotencyKey: string): Promise<CaptureResult | undefined> {
    const raw = await this.ledger.get("captures", idempotencyKey);
    return raw === undefined ? undefined : toResult(JSON.parse(raw));
  }

  async refund(request: RefundRequest): Promise<{ refundRef: string }> {
    const entry: SandboxRefund = {
      idempotencyKey: request.idempotencyKey,
      providerRef: request.providerRef,
      refundRef: `sbx_re_${digest(request.idempotencyKey)}`,
      amountMinor: request.amountMinor,
    };
    const stored = JSON.parse(
      await this.ledger.putIfAbsent("refunds", request.idempotencyKey, JSON.stringify(entry)),
    ) as SandboxRefund;
    return { refundRef: stored.refundRef };
  }

  /** Every succeeded capture and every refund the sandbox made (audits and tests). */
  async statement(): Promise<{ captures: SandboxCapture[]; refunds: SandboxRefund[] }> {
    const captures: SandboxCapture[] = [];
    for (const [idempotencyKey, raw] of await this.ledger.entries("captures")) {
      const c = JSON.parse(raw) as Stored;
      if (c.status === "succeeded")
        captures.push({
          idempotencyKey,
          providerRef: c.providerRef,
          amountMinor: c.amountMinor,
          reference: c.reference,
        });
    }
    const refunds = [...(await this.ledger.entries("refunds")).values()].map(
      (raw) => JSON.parse(raw) as SandboxRefund,
    );
    return { captures, refunds };
  }
}

function toResult(s: Stored): CaptureResult {
  return s.status === "succeeded"
    ? { status: "succeeded", providerRef: s.providerRef }
    : { status: "declined", declineCode: s.declineCode };
}

function digest(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 20);
}
