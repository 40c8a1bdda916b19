import { describe, expect, it } from "vitest";
import { Recorder } from "../../loadtest/driver/recorder.ts";
import { onEntry, recordEntry } from "../../loadtest/lib/admission.ts";
import {
  type BuyOutcome,
  chatter,
  flashBuy,
  type ShopOutcome,
  shop,
  watch,
} from "../../loadtest/lib/behaviours.ts";
import type { DropView, OutFrame } from "../../loadtest/lib/frames.ts";
import { type Runtime, Session } from "../../loadtest/lib/session.ts";
import { clientFrameSchema, type ServerFrame } from "../../protocol/index.ts";

/**
 * The shared behaviours against a scripted server in this process: every frame they send must
 * pass the protocol's schema, and the server answers as the gateway would. Fast; the real-stack
 * proof is spike.test.ts.
 */
const runtime: Runtime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Server clock 5 s ahead of the client's: the behaviours must aim at T0 through the offset. */
const SKEW_MS = 5_000;
const serverNow = () => Date.now() + SKEW_MS;

/** The gateway's answer to a buy that got a hold of one unit of d1. */
function buyAck(reqId: string, reservationId: string, available: number): ServerFrame {
  return {
    t: "ack",
    reqId,
    ok: true,
    result: {
      kind: "buy",
      reservationId,
      dropId: "d1",
      qty: 1,
      deadline: serverNow() + 60_000,
      available,
      replayed: false,
    },
  };
}

function drop(over: Partial<DropView> = {}): ServerFrame & { t: "drop" } {
  const view = {
    dropId: "d1",
    roomId: "r1",
    product: {
      sku: "S",
      title: "T",
      priceMinor: 100,
      currency: "USD",
      imageUrl: "https://example.com/x.png",
    },
    state: "scheduled" as const,
    startsAt: serverNow() + 300,
    endsAt: null,
    perUserLimit: 1,
    holdMs: 60_000,
    available: 1,
    held: 0,
    sold: 0,
    v: 1,
    ...over,
  };
  return { t: "drop", room: "r1", o: `${serverNow()}-0`, e: "ep", drop: view };
}

type Reply = (frame: ServerFrame, delayMs?: number) => void;

/** A session wired to `serve`, which gets every client frame (already schema-checked). */
function connect(serve: (f: OutFrame, reply: Reply) => void, recorder: Recorder) {
  const sent: OutFrame[] = [];
  let closed = false;
  const session: Session = new Session(
    {
      send(text) {
        const frame = JSON.parse(text) as OutFrame;
        expect(clientFrameSchema.safeParse(frame).success, text).toBe(true);
        sent.push(frame);
        serve(frame, reply);
        return true;
      },
      close() {
        if (!closed) setTimeout(() => session.closed(), 1);
        closed = true;
      },
    },
    runtime,
    recorder,
    Date.now(),
    "t",
  );
  const reply: Reply = (frame, delayMs = 1) =>
    setTimeout(() => session.message(JSON.stringify(frame)), delayMs);
  reply({ t: "welcome", v: 1, serverTime: serverNow(), connId: "c", userId: "u1", role: "viewer" });
  return { session, sent };
}

/** Join and clock sync as the gateway answers them. */
function basics(f: OutFrame, reply: Reply, drops: DropView[]): boolean {
  if (f.t === "join") {
    reply({
      t: "joined",
      room: f.room,
      epoch: "ep",
      offset: "1-0",
      viewers: 1,
      drops: drops as never,
      chat: [],
    });
    return true;
  }
  if (f.t === "ping") {
    reply({ t: "pong", reqId: f.reqId, clientTime: f.clientTime, serverTime: serverNow() });
    return true;
  }
  return false;
}

describe("shared load-test behaviours", () => {
  it("flashBuy counts down on the server clock, retries NOT_STARTED with a new key, and waits for its order", async () => {
    const r = new Recorder();
    const d = drop();
    const keys: string[] = [];
    let early = true;
    const outcome = await new Promise<BuyOutcome>((resolve) => {
      const { session } = connect((f, reply) => {
        if (basics(f, reply, [d.drop as DropView])) return;
        if (f.t !== "buy") return;
        keys.push(f.idempotencyKey);
        if (early) {
          early = false;
          return reply({ t: "ack", reqId: f.reqId, ok: false, code: "NOT_STARTED", message: "not yet" });
        }
        reply(buyAck(f.reqId, "d1.1", 0));
        reply(
          {
            t: "order",
            reservationId: "d1.1",
            status: "pending_payment",
            dropId: "d1",
            totalMinor: 100,
            currency: "USD",
          },
          30,
        );
      }, r);
      flashBuy(session, { room: "r1", dropId: "d1", qty: 1, jitterMs: 0, orderWaitMs: 2_000 }, resolve);
    });
    expect(outcome).toEqual({ code: "held", reservationId: "d1.1", qty: 1, orderSeen: true });
    expect(new Set(keys).size).toBe(2);
    const m = r.summarize(1, {});
    // Fired at T0 on the server's clock although the local clock is 5 s behind.
    expect(Math.abs(m.t0_skew_ms?.values.max ?? 1e9)).toBeLessThan(200);
    expect(m.holds?.values.count).toBe(1);
    expect(m.buy_early?.values.count).toBe(1);
    expect(m.order_created_ms?.values.count).toBe(1);
  });

  it("flashBuy reports a sold-out answer without waiting for an order", async () => {
    const r = new Recorder();
    const outcome = await new Promise<BuyOutcome>((resolve) => {
      const { session } = connect((f, reply) => {
        if (basics(f, reply, [])) return;
        if (f.t === "join") return;
        if (f.t === "buy") reply({ t: "ack", reqId: f.reqId, ok: false, code: "SOLD_OUT", message: "gone" });
      }, r);
      flashBuy(session, { room: "r1", dropId: "d1", qty: 1, jitterMs: 0, orderWaitMs: 2_000 }, resolve);
      // The drop arrives after the snapshot, already live.
      setTimeout(
        () => session.message(JSON.stringify(drop({ state: "live", startsAt: serverNow() - 1_000 }))),
        100,
      );
    });
    expect(outcome).toMatchObject({ code: "sold_out", errorCode: "SOLD_OUT" });
    expect(r.summarize(1, {}).sold_out?.values.count).toBe(1);
  });

  it("shop goes buy → order → pay → paid and reports each step", async () => {
    const r = new Recorder();
    const d = drop({ state: "live", startsAt: serverNow() - 1_000 });
    const outcome = await new Promise<ShopOutcome>((resolve) => {
      const { session } = connect((f, reply) => {
        if (basics(f, reply, [d.drop as DropView])) return;
        const order = (status: "pending_payment" | "paid"): ServerFrame => ({
          t: "order",
          reservationId: "d1.7",
          status,
          dropId: "d1",
          totalMinor: 100,
          currency: "USD",
        });
        if (f.t === "buy") {
          reply(buyAck(f.reqId, "d1.7", 9));
          reply(order("pending_payment"), 20);
        }
        if (f.t === "pay") {
          expect(f.token).toBe("tok_success");
          reply({
            t: "ack",
            reqId: f.reqId,
            ok: true,
            result: {
              kind: "pay",
              reservationId: "d1.7",
              status: "paid",
              totalMinor: 100,
              currency: "USD",
              discountMinor: 0,
              paidMinor: 100,
            },
          });
          reply(order("paid"), 5);
        }
      }, r);
      shop(session, { room: "r1", dropId: "d1", qty: 1, orderWaitMs: 2_000 }, resolve);
    });
    expect(outcome).toEqual({ ok: true, step: "paid", reservationId: "d1.7" });
    const m = r.summarize(1, {});
    for (const name of ["buy_ack_ms", "order_created_ms", "pay_ms", "paid_e2e_ms"])
      expect(m[name]?.values.count, name).toBe(1);
    expect(m.journey_ok?.values.rate).toBe(1);
  });

  it("chatter times its own echo, others' delivery from the server's clock, and counts refusals", async () => {
    const r = new Recorder();
    let n = 0;
    const { session } = connect((f, reply) => {
      if (basics(f, reply, [])) return;
      if (f.t !== "chat") return;
      n += 1;
      if (n === 2)
        return reply({
          t: "error",
          code: "RATE_LIMITED",
          message: "slow down",
          reqId: f.clientMsgId,
          room: "r1",
        });
      const at = serverNow();
      reply({
        t: "chat",
        room: "r1",
        messages: [{ id: `m${n}`, room: "r1", userId: "u1", name: "me", role: "viewer", text: f.text, at }],
      });
      reply(
        {
          t: "chat",
          room: "r1",
          messages: [
            { id: `o${n}`, room: "r1", userId: "u2", name: "other", role: "viewer", text: "hi", at: at - 40 },
          ],
        },
        10,
      );
    }, r);
    chatter(session, { room: "r1", everyMs: 60, stayMs: 400 });
    await new Promise<void>((resolve) => session.onClose(resolve));
    const m = r.summarize(1, {});
    expect(m.chat_echo_ms?.values.count).toBeGreaterThanOrEqual(2);
    expect(m.chat_refused?.values.fails).toBe(m.chat_echo_ms?.values.count);
    expect(m.chat_refused?.values.passes).toBe(1);
    expect(m.chat_delivery_ms?.values.min).toBeGreaterThanOrEqual(40);
    expect(m.ws_session_ok?.values.rate).toBe(1);
  });

  it("a planned viewer that joins counts in viewers_connected; one refused or closed before joining counts its failed step", async () => {
    const r = new Recorder(new Set(["viewer_failures{reason:connect}", "viewer_failures{reason:join}"]));
    const entered = (session: Session, planned: boolean) =>
      new Promise<void>((resolve) =>
        onEntry(session, "r1", (failure) => {
          recordEntry(r, failure, planned);
          resolve();
        }),
      );
    // Joins: counted once.
    const { session: ok } = connect((f, reply) => basics(f, reply, []), r);
    const okEntered = entered(ok, true);
    watch(ok, { room: "r1" });
    await okEntered;
    // Joins, but is not one of the planned viewers (a shopper): not counted.
    const { session: shopper } = connect((f, reply) => basics(f, reply, []), r);
    const shopperEntered = entered(shopper, false);
    watch(shopper, { room: "r1" });
    await shopperEntered;
    // Welcomed, then closed before its join was answered.
    const { session: dropped } = connect(() => undefined, r);
    const droppedEntered = entered(dropped, true);
    watch(dropped, { room: "r1" });
    await new Promise<void>((resolve) => dropped.on("welcome", () => setTimeout(resolve, 5)));
    dropped.closed();
    await droppedEntered;
    // Refused: closed with no welcome at all.
    const refused = new Session({ send: () => false, close: () => undefined }, runtime, r, Date.now());
    const refusedEntered = entered(refused, true);
    refused.closed();
    await refusedEntered;

    // Ended by the runner (a ramp going down) before it got in: neither connected nor failed.
    const { session: ended } = connect(() => undefined, r);
    let endedSettled = false;
    onEntry(ended, "r1", () => {
      endedSettled = true;
    });
    ended.end();
    await new Promise<void>((resolve) => ended.onClose(resolve));
    expect(endedSettled).toBe(false);

    const m = r.summarize(1, {});
    expect(m.viewers_connected?.values.count).toBe(1);
    expect(m.viewer_failures?.values.count).toBe(2);
    expect(m["viewer_failures{reason:join}"]?.values.count).toBe(1);
    expect(m["viewer_failures{reason:connect}"]?.values.count).toBe(1);
    for (const s of [ok, shopper]) s.end();
  });
});
