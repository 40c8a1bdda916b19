import { buyInputSchema } from "../../protocol/index.ts";
import type { WaitlistTicket } from "../../sale-engine/index.ts";
import { command } from "./command.ts";

/**
 * Join a sold-out drop's waitlist: a ticket in line, no stock. A unit freed by a released or
 * expired hold goes to the next ticket as a hold of its own (an `offer` frame to the user's
 * sockets). Same input as a buy; the key is the one that hold gets. One ticket per user.
 */
export const waitlistCommand = command({
  name: "waitlist",
  input: buyInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  run: ({ claims, lane }, input): Promise<WaitlistTicket> =>
    lane.engine.joinWaitlist({ ...input, userId: claims.userId }),
  ack: (r) => ({
    kind: "waitlist",
    dropId: r.dropId,
    ticket: r.ticket,
    position: r.position,
    replayed: r.replayed,
  }),
});
