import { describe, expect, it } from "vitest";
import { Recorder } from "../../loadtest/driver/recorder.ts";
import { AUCTION_RUN, expectedPrice, stepAt } from "../../loadtest/lib/auction-run.ts";
import { type BidderOutcome, bidder } from "../../loadtest/lib/bidder.ts";
import type { OutFrame } from "../../loadtest/lib/frames.ts";
import { type Runtime, Session } from "../../loadtest/lib/session.ts";
import { type BidAnswer, clientFrameSchema, type ServerFrame } from "../../protocol/index.ts";

/**
 * The shared bidder against a scripted gateway in this process: a small model of the engine's
 * proxy rule (auction-bid.lua), answering bids, replaying a (user, key) with its recorded answer,
 * moving the end on anti-snipe and broadcasting `auction` frames. Fast; the real-stack proof is
 * auction.test.ts.
 */
const runtime: Runtime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
const { increments, startPriceMinor } = AUCTION_RUN;
const ANTI_SNIPE_MS = 1_000;

class Engine {
  leader: string | undefined;
  lmax = 0;
  second: number | undefined;
  price: number = startPriceMinor;
  bids = 0;
  readonly standing = new Map<string, number>();
  readonly recorded = new Map<string, BidAnswer>();
  extensions = 0;
  ended = false;
  constructor(public endsAt: number) {}

  bid(user: string, max: number, key: string): BidAnswer | { code: string } {
    const rk = `${user}|${key}`;
    const rec = this.recorded.get(rk);
    if (rec) return rec.maxMinor === max ? { ...rec, replayed: true } : { code: "IDEMPOTENCY_KEY_REUSED" };
    if (this.ended) return { code: "AUCTION_ENDED" };
    if (!this.leader) {
      if (max < startPriceMinor) return { code: "BID_TOO_LOW" };
      this.leader = user;
      this.lmax = max;
    } else if (this.leader === user) {
      if (max <= this.lmax) return { code: "ALREADY_LEADING" };
      this.lmax = max;
      if (this.second !== undefined)
        this.price = Math.min(this.lmax, this.second + stepAt(increments, this.second));
    } else {
      if (max < this.price + stepAt(increments, this.price)) return { code: "BID_TOO_LOW" };
      if (max > this.lmax) {
        this.second = this.lmax;
        this.leader = user;
        this.lmax = max;
      } else if (this.second === undefined || max > this.second) this.second = max;
      this.price = Math.min(this.lmax, (this.second ?? 0) + stepAt(increments, this.second ?? 0));
    }
    let extended = false;
    if (Date.now() + ANTI_SNIPE_MS > this.endsAt) {
      this.endsAt = Date.now() + ANTI_SNIPE_MS;
      extended = true;
      this.extensions += 1;
    }
    this.bids += 1;
    this.standing.set(user, max);
    const answer: BidAnswer = {
      dropId: "a1",
      leading: this.leader === user,
      priceMinor: this.price,
      maxMinor: max,
      endsAt: this.endsAt,
      extended,
      bids: this.bids,
      minNextMinor: this.price + stepAt(increments, this.price),
      replayed: false,
    };
    this.recorded.set(rk, answer);
    return answer;
  }
}

/** A tiny deterministic random per bidder. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

const backing = (startsAt: number) => ({
  dropId: "a1",
  roomId: "r1",
  product: { sku: "S", title: "T", priceMinor: 100, currency: "USD", imageUrl: "https://example.com/x.png" },
  state: "paused" as const,
  startsAt,
  endsAt: null,
  perUserLimit: 1,
  holdMs: 60_000,
  available: 1,
  held: 0,
  sold: 0,
  v: 1,
  format: "auction" as const,
});

/** The scripted gateway: join, clock, bids against the engine model, room frames to every socket. */
class Gateway {
  readonly sockets: { user: string; session: Session }[] = [];
  readonly sent: (OutFrame & { user: string })[] = [];
  constructor(
    readonly engine: Engine,
    readonly recorder: Recorder,
  ) {}

  deliver(s: Session, f: ServerFrame): void {
    setTimeout(() => s.message(JSON.stringify(f)), 1);
  }

  broadcast(f: ServerFrame): void {
    for (const { session } of this.sockets) this.deliver(session, f);
  }

  connect(user: string): Session {
    let closed = false;
    const session: Session = new Session(
      {
        send: (text) => {
          const f = JSON.parse(text) as OutFrame;
          expect(clientFrameSchema.safeParse(f).success, text).toBe(true);
          this.sent.push({ ...f, user });
          this.serve(session, user, f);
          return true;
        },
        close: () => {
          if (!closed) setTimeout(() => session.closed(), 1);
          closed = true;
        },
      },
      runtime,
      this.recorder,
      Date.now(),
      user,
    );
    this.sockets.push({ user, session });
    this.deliver(session, {
      t: "welcome",
      v: 1,
      serverTime: Date.now(),
      connId: user,
      userId: user,
      role: "viewer",
    });
    return session;
  }

  /**
   * After the (extended) end and once `ready` holds: auctionEnded to the room, the hold to the
   * leader. Bids stay open until then, so a loaded machine's late timers change no outcome.
   */
  settle(ready: () => boolean): void {
    const e = this.engine;
    if (Date.now() < e.endsAt + 50 || !ready()) {
      setTimeout(() => this.settle(ready), 50);
      return;
    }
    e.ended = true;
    this.broadcast({
      t: "auctionEnded",
      room: "r1",
      o: `${Date.now()}-0`,
      e: "ep",
      dropId: "a1",
      winner: "m",
      priceMinor: e.price,
      reserveMet: true,
      v: 99,
    });
    const winner = this.sockets.find((s) => s.user === e.leader);
    if (winner)
      this.deliver(winner.session, {
        t: "auctionHold",
        dropId: "a1",
        reservationId: "a1.1",
        priceMinor: e.price,
        deadline: Date.now() + 60_000,
      });
  }

  private serve(session: Session, user: string, f: OutFrame): void {
    if (f.t === "join") {
      const drops = [backing(this.engine.endsAt)];
      this.deliver(session, {
        t: "joined",
        room: f.room,
        epoch: "ep",
        offset: "1-0",
        viewers: 5,
        drops: drops as never,
        chat: [],
      });
    } else if (f.t === "ping") {
      this.deliver(session, { t: "pong", reqId: f.reqId, clientTime: f.clientTime, serverTime: Date.now() });
    } else if (f.t === "bid") {
      const a = this.engine.bid(user, f.maxMinor, f.idempotencyKey);
      if ("code" in a) {
        this.deliver(session, {
          t: "ack",
          reqId: f.reqId,
          ok: false,
          code: a.code as never,
          message: a.code,
        });
        return;
      }
      this.deliver(session, { t: "ack", reqId: f.reqId, ok: true, result: { kind: "bid", ...a } });
      if (a.replayed) return;
      this.broadcast({
        t: "auction",
        room: "r1",
        o: `${Date.now()}-${a.bids}`,
        e: "ep",
        dropId: "a1",
        leader: this.engine.leader ?? "",
        priceMinor: a.priceMinor,
        endsAt: a.endsAt,
        bids: a.bids,
        extended: a.extended,
        v: a.bids,
      });
    }
  }
}

describe("auction bidder", () => {
  it("bids at once, raises when outbid, snipes near the end, resends lost acks with the same key; the highest maximum wins", async () => {
    const r = new Recorder();
    const engine = new Engine(Date.now() + 2_500);
    const gw = new Gateway(engine, r);
    const ceilings = [1_400, 2_600, 900, 2_000, 3_100];
    const running = ceilings.map(
      (ceilingMinor, i) =>
        new Promise<BidderOutcome>((resolve) => {
          const session = gw.connect(`u${i}`);
          const options = {
            room: "r1",
            dropId: "a1",
            startPriceMinor,
            increments,
            ceilingMinor,
            windowMs: 10_000,
            thinkMs: 30,
            // The last bidder snipes; every first answer bidder 0 gets counts as lost.
            sniper: i === ceilings.length - 1,
            snipeLeadMs: 400,
            lostAckRate: i === 0 ? 1 : 0,
            settleWaitMs: 200,
            random: seeded(i + 1),
          };
          bidder(session, options, (o) => {
            resolve(o);
            session.end();
          });
        }),
    );
    // The sniper's ceiling bid has gone out (it bids inside the anti-snipe window).
    const sniped = () => gw.sent.some((f) => f.t === "bid" && f.user === "u4" && f.maxMinor === 3_100);
    gw.settle(sniped);
    const bidders = await Promise.all(running);

    // One winner: the engine's leader, with the highest maximum, at the proxy price.
    const winners = bidders.filter((o) => o.won);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.standingMaxMinor).toBe(engine.lmax);
    expect(engine.lmax).toBe(Math.max(...engine.standing.values()));
    expect(winners[0]?.priceMinor).toBe(
      expectedPrice([...engine.standing.values()], startPriceMinor, increments),
    );
    // Every bidder's standing maximum is the engine's, never above its ceiling.
    bidders.forEach((o, i) => {
      expect(o.standingMaxMinor ?? undefined).toBe(engine.standing.get(`u${i}`));
      expect(o.standingMaxMinor ?? 0).toBeLessThanOrEqual(ceilings[i] ?? 0);
      expect(o.ended).toBe(true);
    });
    // Accepted bids: what the engine counted; the sniper's late bid moved the end.
    expect(bidders.reduce((a, o) => a + o.accepted, 0)).toBe(engine.bids);
    expect(bidders.reduce((a, o) => a + o.extensions, 0)).toBe(engine.extensions);
    expect(bidders.at(-1)?.extensions).toBeGreaterThan(0);
    // Bidder 0's every accepted bid was sent again: same key, same amount, a new request id.
    const mine = gw.sent.flatMap((f) => (f.t === "bid" && f.user === "u0" ? [f] : []));
    const byKey = new Map<string, (typeof mine)[number][]>();
    for (const f of mine) byKey.set(f.idempotencyKey, [...(byKey.get(f.idempotencyKey) ?? []), f]);
    const resent = [...byKey.values()].filter((fs) => fs.length === 2);
    expect(resent.length).toBe(bidders[0]?.accepted);
    expect(resent.length).toBeGreaterThan(0);
    for (const [a, b] of resent) {
      expect(b?.maxMinor).toBe(a?.maxMinor);
      expect(b?.reqId).not.toBe(a?.reqId);
    }
    const m = r.summarize(1, {});
    expect(m.bid_retries?.values.count).toBe(resent.length);
    expect(m.bid_replay_mismatch?.values.count ?? 0).toBe(0);
    expect(m.auction_wins?.values.count).toBe(1);
  }, 20_000);
});
