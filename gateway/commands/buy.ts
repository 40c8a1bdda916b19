import { isLivedropError } from "../../core/index.ts";
import { buyInputSchema } from "../../protocol/index.ts";
import type { FairEntry, Reservation, SaleEngine } from "../../sale-engine/index.ts";
import { endSpan, SpanAttr, SpanKind, startSpan } from "../../telemetry/index.ts";
import { command } from "./command.ts";

/** A fair-window or raffle entry, with when its draw closes (the client's countdown to the result). */
export type EnteredBuy = FairEntry & { readonly closesAt: number };
/** What a buy answers: a hold (first come, first served) or an entry of the drop's draw. */
export type BuyAnswer = ({ readonly kind: "held" } & Reservation) | EnteredBuy;

/**
 * When each drawn drop's entries close, per engine (lane): fixed once the drop takes entries (a
 * launch moves T0 only before it is live), so the first entry reads the status and the rest of the
 * window's entries pay no extra round trip. Bounded: the oldest drop goes first.
 */
const closesAtOf = new WeakMap<SaleEngine, Map<string, number>>();
const MAX_CACHED_DROPS = 1_024;

async function closesAt(engine: SaleEngine, dropId: string): Promise<number> {
  let cache = closesAtOf.get(engine);
  if (!cache) {
    cache = new Map();
    closesAtOf.set(engine, cache);
  }
  const known = cache.get(dropId);
  if (known !== undefined) return known;
  const status = await engine.status(dropId);
  const at = status.fair?.closesAt ?? status.startsAt;
  if (cache.size >= MAX_CACHED_DROPS) cache.delete(cache.keys().next().value as string);
  cache.set(dropId, at);
  return at;
}

/**
 * Buy: a hold on stock, answered within milliseconds; the order follows through the pipeline. In a
 * drop's fair window or raffle the buy is an entry of the draw instead: acknowledged at once, its
 * result sent to the user's sockets when the draw runs.
 */
export const buyCommand = command({
  name: "buy",
  input: buyInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  run: async ({ claims, lane }, input): Promise<BuyAnswer> => {
    // Every buy that reaches the engine counts as a click, accepted or refused (the ops funnel).
    lane.countBuy?.(input.dropId);
    // Tracing on: the root of the buy's trace (the frame or route that asked), ids only.
    const span = startSpan("buy", SpanKind.SERVER);
    span?.setAttributes({ [SpanAttr.drop]: input.dropId });
    try {
      const result = await lane.engine.buy({ ...input, userId: claims.userId }, span);
      if (result.kind === "entered") {
        endSpan(span, result.replayed ? "replayed" : "entered");
        if (!result.replayed) lane.countBuy?.(input.dropId, "entry");
        return { ...result, closesAt: await closesAt(lane.engine, result.dropId) };
      }
      span?.setAttributes({ [SpanAttr.reservation]: result.reservationId });
      endSpan(span, result.replayed ? "replayed" : "held");
      return result;
    } catch (err) {
      // A refusal (sold out, limit) is an outcome, not a failure of the service.
      if (isLivedropError(err)) endSpan(span, err.code);
      else endSpan(span, "failed", err);
      throw err;
    }
  },
  ack: (r) =>
    r.kind === "entered"
      ? {
          kind: "entered",
          dropId: r.dropId,
          entryId: r.entryId,
          qty: r.qty,
          closesAt: r.closesAt,
          replayed: r.replayed,
        }
      : {
          kind: "buy",
          reservationId: r.reservationId,
          dropId: r.dropId,
          qty: r.qty,
          deadline: r.deadline,
          available: r.available,
          replayed: r.replayed,
        },
});
