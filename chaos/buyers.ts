import { randomUUID } from "node:crypto";
import type { TokenService } from "../auth/index.ts";
import { call } from "./http.ts";

export interface BuyerOptions {
  readonly gateways: readonly string[];
  readonly dropId: string;
  readonly tokens: TokenService;
  /** Purchases in flight at once. */
  readonly concurrency: number;
  /** Pause between one buyer's purchases, ms (keeps the load light on a small machine). */
  readonly paceMs: number;
  /** How long one purchase is retried with its idempotency key before it is given up, ms. */
  readonly retryForMs: number;
  /** Timeout of one HTTP call, ms: a cut-off gateway answers nothing and the retry goes elsewhere. */
  readonly callTimeoutMs: number;
  /** Share of acknowledged holds that are paid, 0-1. */
  readonly payShare: number;
  readonly runTag: string;
}

/** Refusals that end a purchase: asking again with the same key gets the same answer. */
const FINAL = new Set(["SOLD_OUT", "INSUFFICIENT_STOCK", "LIMIT_EXCEEDED", "ENDED"]);

/**
 * Buyers with retries: each purchase is a new user with one idempotency key, retried on no
 * answer, 5xx or a retryable refusal, alternating gateways, for at most retryForMs. An acknowledged
 * hold (201/200 with a reservation) is recorded with its time; some are then paid, with their own
 * key, retried the same way; an acknowledged payment is one answered `paid`.
 */
export class Buyers {
  readonly ackedHolds = new Map<string, { userId: string; at: number }>();
  readonly ackedPayments = new Set<string>();
  /** Times (ms epoch) of every acknowledged hold, in order: when buying worked. */
  readonly ackTimes: number[] = [];
  readonly refusals = new Map<string, number>();
  givenUp = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private next = 0;

  constructor(private readonly o: BuyerOptions) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.o.concurrency }, (_, slot) => this.loop(slot));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private count(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  private async loop(slot: number): Promise<void> {
    while (this.running) {
      await this.purchase(slot);
      await new Promise((r) => setTimeout(r, this.o.paceMs));
    }
  }

  private async purchase(slot: number): Promise<void> {
    const userId = `chaos-${this.o.runTag}-${this.next++}`;
    const token = await this.o.tokens.issue({ userId, role: "viewer", ttlSeconds: 3600 });
    const key = randomUUID();
    const until = Date.now() + this.o.retryForMs;
    for (let attempt = 0; Date.now() < until; attempt++) {
      const gateway = this.o.gateways[(slot + attempt) % this.o.gateways.length] as string;
      const a = await call(
        "POST",
        `${gateway}/api/v1/drops/${this.o.dropId}/buy`,
        token,
        { qty: 1, idempotencyKey: key },
        this.o.callTimeoutMs,
      );
      const reservationId = a.body?.reservationId;
      if ((a.status === 200 || a.status === 201) && typeof reservationId === "string") {
        if (!this.ackedHolds.has(reservationId)) {
          this.ackedHolds.set(reservationId, { userId, at: Date.now() });
          this.ackTimes.push(Date.now());
        }
        if (Math.random() < this.o.payShare) await this.pay(slot, token, reservationId);
        return;
      }
      this.count(a.code);
      if (a.status >= 400 && a.status < 500 && FINAL.has(a.code)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.givenUp++;
  }

  private async pay(slot: number, token: string, reservationId: string): Promise<void> {
    const key = randomUUID();
    const until = Date.now() + this.o.retryForMs;
    for (let attempt = 0; Date.now() < until; attempt++) {
      const gateway = this.o.gateways[(slot + attempt) % this.o.gateways.length] as string;
      const a = await call(
        "POST",
        `${gateway}/api/v1/orders/${reservationId}/pay`,
        token,
        { token: "tok_success", idempotencyKey: key },
        this.o.callTimeoutMs,
      );
      if (a.status === 200 && a.body?.status === "paid") {
        this.ackedPayments.add(reservationId);
        return;
      }
      if (a.status >= 400 && a.status < 500 && a.status !== 404 && a.status !== 409 && a.status !== 429) {
        this.count(`pay:${a.code}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
