import { type Logger, type PeriodicPass, repeatPass } from "../../core/index.ts";
import { resolveUnknown, type SettleDeps, settleCaptured } from "../payments/settle.ts";

export interface PaymentReconcilerOptions {
  /** How long an attempt may sit at one step before it is taken for abandoned, ms. */
  readonly stuckMs: number;
  /** Attempts one pass handles at most. */
  readonly batch: number;
  /**
   * True while the store was never opened in this process (the shadow lane's store opens on
   * first use): a pass then skips it rather than open it just to look.
   */
  readonly storeUnopened?: () => boolean;
}

/** What one pass did, by outcome. */
export interface PaymentPass {
  readonly paid: number;
  readonly refunded: number;
  /** Unknown outcomes the provider said were never captured (or were declined). */
  readonly uncaptured: number;
  readonly failed: number;
}

/**
 * Finishes payment attempts that a crash left between two steps of a checkout, so that every
 * capture ends paying its order or refunded: an attempt `captured` but not settled has its hold
 * confirmed and its order paid, or its capture refunded when the hold is lost; an attempt
 * `started` (or timed out) is looked up at the provider by its idempotency key and carried on
 * from what the provider says. Every step is idempotent and compare-and-set, so several
 * reconcilers (one per worker process) and retried pays may work on one attempt at once.
 */
export class PaymentReconciler {
  private loop: PeriodicPass | undefined;
  private stopped = false;
  /** Attempts finished since start. */
  finished = 0;

  constructor(
    private readonly deps: SettleDeps,
    private readonly o: PaymentReconcilerOptions,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number): this {
    this.loop = repeatPass(
      intervalMs,
      async () => {
        const p = await this.pass();
        if (p.paid + p.refunded + p.uncaptured + p.failed > 0)
          this.log.info(p, "payment reconciler finished attempts");
      },
      (err) => this.log.warn({ err: err.message }, "payment reconcile pass failed"),
    );
    return this;
  }

  async stop(): Promise<void> {
    // Also ends a pass under way early: it handles no further attempt.
    this.stopped = true;
    await this.loop?.stop();
  }

  /** One scan of unfinished attempts, oldest step first. */
  async pass(): Promise<PaymentPass> {
    if (this.o.storeUnopened?.()) return { paid: 0, refunded: 0, uncaptured: 0, failed: 0 };
    const stuck = await this.deps.store.unfinishedPaymentAttempts({
      olderThanMs: this.o.stuckMs,
      limit: this.o.batch,
    });
    const pass = { paid: 0, refunded: 0, uncaptured: 0, failed: 0 };
    for (const attempt of stuck) {
      if (this.stopped) break;
      try {
        const settled =
          attempt.status === "captured"
            ? await settleCaptured(this.deps, attempt)
            : await resolveUnknown(this.deps, attempt);
        if (!settled) pass.uncaptured += 1;
        else if (settled.kind === "paid") pass.paid += 1;
        else pass.refunded += 1;
      } catch (err) {
        // One attempt's trouble (Redis or the provider away) does not stop the others.
        pass.failed += 1;
        this.log.warn(
          { err: (err as Error).message, paymentAttempt: attempt.id },
          "payment attempt not finished",
        );
      }
    }
    this.finished += pass.paid + pass.refunded + pass.uncaptured;
    return pass;
  }
}
