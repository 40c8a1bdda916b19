import { buyInputSchema } from "../../protocol/index.ts";
import type { Reservation } from "../../sale-engine/index.ts";
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
    return lane.engine.reserve({ ...input, userId: claims.userId });
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
