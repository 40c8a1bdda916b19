import {
  compareOffsets,
  type DropView,
  frames as f,
  type OrderStatus,
  offsetTimeMs,
  PAYMENT_TOKENS,
  SHADOW_DISABLED,
  SOLD_OUT_CODES,
} from "./frames.ts";
import type { Session } from "./session.ts";

/**
 * What one virtual user does on its socket, shared by the k6 scripts and the Node driver. Each
 * behaviour starts on the welcome frame and reports through the session's sink; the ones with an
 * outcome call `done` exactly once; the runner then ends the session (after any HTTP check).
 */

const CLOCK_PINGS = 5;
const CLOCK_GAP_MS = 40;
const ACK_TIMEOUT_MS = 10_000;
const NOT_STARTED_RETRY_MS = 25;
const MAX_EARLY_RETRIES = 200;
/** Re-sync the clock this often in long sessions (drift, and a better sample on a calm link). */
const RESYNC_EVERY_MS = 30_000;

/**
 * Joins `room` and syncs the clock at the same time; `ready` gets the drops of the snapshot once
 * both are done. Drop and stock frames are checked for order and timed from the server's event
 * time through the clock offset.
 */
export function enterRoom(
  s: Session,
  room: string,
  ready: (drops: ReadonlyMap<string, DropView>) => void,
): void {
  let joined: DropView[] | undefined;
  // Every drop seen so far (snapshot, then frames), so none is missed while the clock syncs.
  const drops = new Map<string, DropView>();
  let synced = false;
  let fired = false;
  const maybeReady = () => {
    if (joined && synced && !fired) {
      fired = true;
      ready(drops);
    }
  };
  s.on("welcome", () => {
    const sentAt = s.rt.now();
    s.send(f.join(room));
    s.on("joined", (j) => {
      if (j.room !== room || joined) return;
      s.trend("join_ms", s.rt.now() - sentAt);
      s.seenOffset(room, j.offset, compareOffsets);
      joined = j.drops;
      for (const d of j.drops) if (!drops.has(d.dropId)) drops.set(d.dropId, d);
      maybeReady();
    });
    s.syncClock(CLOCK_PINGS, CLOCK_GAP_MS, () => {
      synced = true;
      maybeReady();
    });
  });
  s.on("drop", (d) => {
    if (d.room !== room || !s.seenOffset(`${room}/${d.drop.dropId}`, d.o, compareOffsets)) return;
    drops.set(d.drop.dropId, d.drop);
    s.count("drop_events", 1);
    if (s.synced) s.trend("drop_delivery_ms", Math.max(0, s.serverNow() - offsetTimeMs(d.o)));
  });
  s.on("stock", (st) => {
    if (st.room !== room || !s.seenOffset(`${room}/${st.dropId}`, st.o, compareOffsets)) return;
    if (s.synced) s.trend("stock_delivery_ms", Math.max(0, s.serverNow() - offsetTimeMs(st.o)));
  });
}

/** Waits for `dropId`: already seen (snapshot or frame), or in a later drop frame. */
export function whenDrop(
  s: Session,
  room: string,
  dropId: string,
  drops: ReadonlyMap<string, DropView>,
  cb: (d: DropView) => void,
): void {
  const known = drops.get(dropId);
  if (known) {
    cb(known);
    return;
  }
  let seen = false;
  s.on("drop", (d) => {
    if (seen || d.room !== room || d.drop.dropId !== dropId) return;
    seen = true;
    cb(d.drop);
  });
}

export interface WatchOptions {
  readonly room: string;
  /** Stay this long, then close (k6 sessions); omitted: until the runner ends the session. */
  readonly stayMs?: number;
}

/** A viewer: joins, syncs, watches drop events; re-syncs its clock now and then. */
export function watch(s: Session, o: WatchOptions): void {
  enterRoom(s, o.room, () => {
    const resync = () =>
      s.after(RESYNC_EVERY_MS, () => {
        s.syncClock(3, CLOCK_GAP_MS, () => undefined);
        resync();
      });
    resync();
    if (o.stayMs !== undefined) s.after(o.stayMs, () => s.end());
  });
}

export interface BuyOutcome {
  readonly code: "held" | "sold_out" | "refused" | "timeout" | "closed";
  /** The refusal code when refused. */
  readonly errorCode?: string;
  readonly reservationId?: string;
  readonly qty: number;
  /** The order frame for the hold arrived on the socket. */
  readonly orderSeen: boolean;
}

export interface FlashBuyOptions {
  readonly room: string;
  readonly dropId: string;
  readonly qty: number;
  /** Fire at T0 plus a random delay up to this. */
  readonly jitterMs: number;
  /** After a hold, wait this long for the order frame. */
  readonly orderWaitMs: number;
  /** Record how far from T0 (+ jitter) it fired; off for buyers arriving after T0. */
  readonly measureSkew?: boolean;
  readonly random?: () => number;
}

/**
 * A flash-sale buyer: counts down to T0 on the server clock, buys at T0 (+ jitter), and after a
 * hold waits for its order frame. A NOT_STARTED answer (fired early: clock error) is retried with
 * a new idempotency key, since the engine records the refusal under the key it was sent with.
 */
export function flashBuy(s: Session, o: FlashBuyOptions, done: (outcome: BuyOutcome) => void): void {
  let finished = false;
  const finish = (outcome: BuyOutcome) => {
    if (finished) return;
    finished = true;
    done(outcome);
  };
  s.onClose(() => finish({ code: "closed", qty: o.qty, orderSeen: false }));
  const orders = new Map<string, number>();
  s.on("order", (ord) => {
    if (!orders.has(ord.reservationId)) orders.set(ord.reservationId, s.rt.now());
  });

  enterRoom(s, o.room, (drops) =>
    whenDrop(s, o.room, o.dropId, drops, (drop) => {
      const jitter = Math.floor((o.random ?? Math.random)() * o.jitterMs);
      const aim = drop.startsAt + jitter;
      s.after(aim - s.serverNow(), () => fire(aim, 0));
    }),
  );

  const fire = (aim: number, attempt: number) => {
    if (attempt === 0 && o.measureSkew !== false) s.trend("t0_skew_ms", s.serverNow() - aim);
    const reqId = s.nextId();
    s.request(f.buy(reqId, o.dropId, o.qty, reqId), ACK_TIMEOUT_MS, (answer, ms) => {
      if (!answer) {
        s.rate("buy_answered", false);
        s.count("buy_errors", 1);
        return finish({ code: s.isClosed ? "closed" : "timeout", qty: o.qty, orderSeen: false });
      }
      s.rate("buy_answered", true);
      s.trend("buy_ack_ms", ms);
      if (answer.t === "ack" && answer.ok && answer.result.kind === "buy") {
        s.count("holds", answer.result.qty);
        return awaitOrder(answer.result.reservationId, s.rt.now());
      }
      const code = answer.t === "ack" && !answer.ok ? answer.code : answer.t === "error" ? answer.code : "";
      if (code === "NOT_STARTED" && attempt < MAX_EARLY_RETRIES) {
        s.count("buy_early", 1);
        s.after(NOT_STARTED_RETRY_MS, () => fire(aim, attempt + 1));
        return;
      }
      if (SOLD_OUT_CODES.includes(code)) {
        s.count("sold_out", 1);
        return finish({ code: "sold_out", errorCode: code, qty: o.qty, orderSeen: false });
      }
      if (code === SHADOW_DISABLED) s.count("shadow_refused", 1);
      s.count("buy_errors", 1);
      finish({ code: "refused", errorCode: code, qty: o.qty, orderSeen: false });
    });
  };

  const awaitOrder = (reservationId: string, ackAt: number) => {
    const held = (orderSeen: boolean): BuyOutcome => ({ code: "held", reservationId, qty: o.qty, orderSeen });
    const seenAt = orders.get(reservationId);
    if (seenAt !== undefined) {
      s.trend("order_created_ms", Math.max(0, seenAt - ackAt));
      return finish(held(true));
    }
    const timer = s.after(o.orderWaitMs, () => finish(held(false)));
    s.on("order", (ord) => {
      if (ord.reservationId !== reservationId || finished) return;
      s.cancel(timer);
      s.trend("order_created_ms", s.rt.now() - ackAt);
      finish(held(true));
    });
  };
}

export interface ChatOptions {
  readonly room: string;
  /** Interval between this chatter's messages (randomised ±20 %). */
  readonly everyMs: number;
  /** Chat for this long, then close; omitted: until the runner ends the session. */
  readonly stayMs?: number;
  readonly random?: () => number;
}

/**
 * A chatter: joins, then sends a message every `everyMs`. Its own message comes straight back
 * (chat_echo_ms); others' arrive in room batches (chat_delivery_ms, from the server's `at`).
 */
export function chatter(s: Session, o: ChatOptions): void {
  const random = o.random ?? Math.random;
  const pending: { id: string; at: number }[] = [];
  const seen = new Set<string>();
  s.on("chat", (batch) => {
    if (batch.room !== o.room) return;
    for (const m of batch.messages) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      if (m.userId === s.userId) {
        const mine = pending.shift();
        if (mine) {
          s.trend("chat_echo_ms", s.rt.now() - mine.at);
          s.rate("chat_refused", false);
        }
      } else {
        s.count("chat_received", 1);
        if (s.synced) s.trend("chat_delivery_ms", Math.max(0, s.serverNow() - m.at));
      }
    }
    if (seen.size > 5_000) seen.clear();
  });
  s.on("error", (e) => {
    // The kill switch answers a chat frame without its clientMsgId: count it against the oldest.
    const i =
      e.code === SHADOW_DISABLED && e.reqId === undefined ? 0 : pending.findIndex((p) => p.id === e.reqId);
    if (i < 0 || i >= pending.length) return;
    pending.splice(i, 1);
    s.rate("chat_refused", true);
    if (e.code === SHADOW_DISABLED) s.count("shadow_refused", 1);
  });
  enterRoom(s, o.room, () => {
    const send = () => {
      const id = s.nextId();
      pending.push({ id, at: s.rt.now() });
      s.send(f.chat(o.room, `load test ${id}`, id));
      s.after(o.everyMs * (0.8 + 0.4 * random()), send);
    };
    // Spread the first messages over one interval so the chatters do not fire in lockstep.
    s.after(o.everyMs * random(), send);
    if (o.stayMs !== undefined) s.after(o.stayMs, () => s.end());
  });
}

/** Pays over HTTP instead of the socket (full-link); the callback gets the order status or undefined. */
export type HttpPay = (
  reservationId: string,
  token: string,
  idempotencyKey: string,
  cb: (status: OrderStatus | undefined) => void,
) => void;

export interface ShopOptions {
  readonly room: string;
  readonly dropId: string;
  readonly qty: number;
  readonly orderWaitMs: number;
  /** Given: pay over HTTP; otherwise over the socket. */
  readonly payOverHttp?: HttpPay;
}

export interface ShopOutcome {
  readonly ok: boolean;
  readonly step: "buy" | "order" | "pay" | "paid" | "closed";
  readonly reservationId?: string;
}

/** A shopper: buy → order → pay (sandbox) → paid, each step timed; `journey_ok` says it got through. */
export function shop(s: Session, o: ShopOptions, done: (outcome: ShopOutcome) => void): void {
  let finished = false;
  let step: ShopOutcome["step"] = "buy";
  let reservationId: string | undefined;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    s.rate("journey_ok", ok);
    done({ ok, step: ok ? "paid" : step, ...(reservationId ? { reservationId } : {}) });
  };
  s.onClose(() => finish(false));
  const statusAt = new Map<string, number>();
  const waiters: { status: OrderStatus; cb: () => void }[] = [];
  s.on("order", (ord) => {
    if (ord.reservationId !== reservationId) return;
    statusAt.set(ord.status, s.rt.now());
    for (const w of waiters.filter((w) => w.status === ord.status)) w.cb();
  });
  const whenStatus = (status: OrderStatus, cb: () => void) => {
    if (statusAt.has(status)) return cb();
    const timer = s.after(o.orderWaitMs, () => finish(false));
    waiters.push({
      status,
      cb: () => {
        s.cancel(timer);
        cb();
      },
    });
  };

  enterRoom(s, o.room, (drops) =>
    whenDrop(s, o.room, o.dropId, drops, () => {
      const buySentAt = s.rt.now();
      const reqId = s.nextId();
      s.request(f.buy(reqId, o.dropId, o.qty, reqId), ACK_TIMEOUT_MS, (answer, ms) => {
        s.rate("buy_answered", answer !== undefined);
        if (answer) s.trend("buy_ack_ms", ms);
        if (!(answer?.t === "ack" && answer.ok && answer.result.kind === "buy")) {
          s.count("buy_errors", 1);
          return finish(false);
        }
        s.count("holds", answer.result.qty);
        reservationId = answer.result.reservationId;
        const ackAt = s.rt.now();
        step = "order";
        whenStatus("pending_payment", () => {
          s.trend("order_created_ms", (statusAt.get("pending_payment") ?? s.rt.now()) - ackAt);
          step = "pay";
          pay(reservationId ?? "", buySentAt);
        });
      });
    }),
  );

  const pay = (rid: string, buySentAt: number) => {
    const paid = () => {
      s.trend("paid_e2e_ms", s.rt.now() - buySentAt);
      finish(true);
    };
    const answered = (status: OrderStatus | undefined, ms: number) => {
      s.trend("pay_ms", ms);
      if (status === "paid") return paid();
      if (status === undefined) return finish(false);
      step = "paid";
      whenStatus("paid", paid);
    };
    const payAt = s.rt.now();
    const key = `${rid}-pay`;
    if (o.payOverHttp) {
      o.payOverHttp(rid, PAYMENT_TOKENS.success, key, (status) => answered(status, s.rt.now() - payAt));
      return;
    }
    const reqId = s.nextId();
    s.request(f.pay(reqId, rid, PAYMENT_TOKENS.success, key), ACK_TIMEOUT_MS, (answer, ms) =>
      answered(
        answer?.t === "ack" && answer.ok && answer.result.kind === "pay" ? answer.result.status : undefined,
        ms,
      ),
    );
  };
}
