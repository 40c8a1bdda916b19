import type { Order } from "../../orders/index.ts";
import { payInputSchema } from "../../protocol/index.ts";
import { command } from "./command.ts";

/** Pay for a hold with a (sandbox) payment token: the order is paid, or the payment refused. */
export const payCommand = command({
  name: "order.pay",
  input: payInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  run: ({ claims, lane }, input): Promise<Order> => lane.checkout.pay({ ...input, userId: claims.userId }),
  ack: (o) => ({
    kind: "pay",
    reservationId: o.reservationId,
    status: o.status,
    totalMinor: o.totalMinor,
    currency: o.currency,
    discountMinor: o.discountMinor,
    paidMinor: o.paidMinor,
  }),
});
