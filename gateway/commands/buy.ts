import { isLivedropError } from "../../core/index.ts";
import { buyInputSchema } from "../../protocol/index.ts";
import type { Reservation } from "../../sale-engine/index.ts";
import { endSpan, SpanAttr, SpanKind, startSpan } from "../../telemetry/index.ts";
import { command } from "./command.ts";

/** Buy: a hold on stock, answered within milliseconds; the order follows through the pipeline. */
export const buyCommand = command({
  name: "buy",
  input: buyInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  run: async ({ claims, lane }, input): Promise<Reservation> => {
    // Every buy that reaches the engine counts as a click, accepted or refused (the ops funnel).
    lane.countBuy?.(input.dropId);
    // Tracing on: the root of the buy's trace (the frame or route that asked), ids only.
    const span = startSpan("buy", SpanKind.SERVER);
    span?.setAttributes({ [SpanAttr.drop]: input.dropId });
    try {
      const reservation = await lane.engine.reserve({ ...input, userId: claims.userId }, span);
      span?.setAttributes({ [SpanAttr.reservation]: reservation.reservationId });
      endSpan(span, reservation.replayed ? "replayed" : "held");
      return reservation;
    } catch (err) {
      // A refusal (sold out, limit) is an outcome, not a failure of the service.
      if (isLivedropError(err)) endSpan(span, err.code);
      else endSpan(span, "failed", err);
      throw err;
    }
  },
  ack: (r) => ({
    kind: "buy",
    reservationId: r.reservationId,
    dropId: r.dropId,
    qty: r.qty,
    deadline: r.deadline,
    available: r.available,
    replayed: r.replayed,
  }),
});
