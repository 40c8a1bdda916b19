import {
  auctionOpenBodySchema,
  auctionOpenResponseSchema,
  bidBodySchema,
  bidResponseSchema,
  buyBodySchema,
  buyResponseSchema,
  createDropBodySchema,
  createDropResponseSchema,
  dropStatusSchema,
  orderSchema,
  payBodySchema,
  pinResponseSchema,
  restockBodySchema,
  transitionResponseSchema,
  waitlistResponseSchema,
} from "../../protocol/index.ts";
import {
  auctionOpenCommand,
  bidCommand,
  buyCommand,
  createDropCommand,
  endCommand,
  launchCommand,
  pauseCommand,
  payCommand,
  pinCommand,
  restockCommand,
  resumeCommand,
  unpinCommand,
  waitlistCommand,
} from "../commands/index.ts";
import type { ApiRouter } from "./router.ts";

/**
 * The commands served over HTTP: each line says where a command lives and how the request becomes
 * its input. Their rules, handlers and results are the commands' own (../commands/).
 */
export function registerCommandRoutes(router: ApiRouter): void {
  router.command({
    method: "post",
    pattern: "/api/v1/rooms/:room/drops",
    command: createDropCommand,
    body: createDropBodySchema,
    input: ([room], body) => ({ ...body, roomId: room }),
    status: (r) => (r.created ? 201 : 200),
    response: createDropResponseSchema,
    respond: (r) => ({ created: r.created, drop: r.status }),
  });
  for (const [action, command] of [
    ["launch", launchCommand],
    ["pause", pauseCommand],
    ["resume", resumeCommand],
    ["end", endCommand],
  ] as const) {
    router.command({
      method: "post",
      pattern: `/api/v1/drops/:dropId/${action}`,
      command,
      input: ([dropId]) => ({ dropId }),
      response: transitionResponseSchema,
      respond: (r) => r,
    });
  }
  for (const [action, command] of [
    ["pin", pinCommand],
    ["unpin", unpinCommand],
  ] as const) {
    router.command({
      method: "post",
      pattern: `/api/v1/drops/:dropId/${action}`,
      command,
      input: ([dropId]) => ({ dropId }),
      response: pinResponseSchema,
      respond: (r) => r,
    });
  }
  router.command({
    method: "post",
    pattern: "/api/v1/drops/:dropId/restock",
    command: restockCommand,
    body: restockBodySchema,
    input: ([dropId], body) => ({ ...body, dropId }),
    response: dropStatusSchema,
    respond: (r) => r,
  });
  router.command({
    method: "post",
    pattern: "/api/v1/drops/:dropId/buy",
    command: buyCommand,
    body: buyBodySchema,
    input: ([dropId], body) => ({ ...body, dropId }),
    status: (r) => (r.replayed ? 200 : 201),
    response: buyResponseSchema,
    // A hold as before; an entry of a drop's draw says so (`kind: "entered"`).
    respond: (r) => {
      if (r.kind === "entered") {
        const { dropId, entryId, qty, closesAt, replayed } = r;
        return { kind: r.kind, dropId, entryId, qty, closesAt, replayed };
      }
      const { kind: _, ...reservation } = r;
      return reservation;
    },
  });
  router.command({
    method: "post",
    pattern: "/api/v1/drops/:dropId/waitlist",
    command: waitlistCommand,
    body: buyBodySchema,
    input: ([dropId], body) => ({ ...body, dropId }),
    status: (r) => (r.replayed ? 200 : 201),
    response: waitlistResponseSchema,
    respond: (r) => r,
  });
  router.command({
    method: "post",
    pattern: "/api/v1/rooms/:room/auctions",
    command: auctionOpenCommand,
    body: auctionOpenBodySchema,
    input: ([room], body) => ({ ...body, roomId: room }),
    status: (r) => (r.opened ? 201 : 200),
    response: auctionOpenResponseSchema,
    respond: (r) => ({ opened: r.opened, auction: r.status }),
  });
  router.command({
    method: "post",
    pattern: "/api/v1/drops/:dropId/bids",
    command: bidCommand,
    body: bidBodySchema,
    input: ([dropId], body) => ({ ...body, dropId }),
    status: (r) => (r.replayed ? 200 : 201),
    response: bidResponseSchema,
    respond: (r) => r,
  });
  router.command({
    method: "post",
    pattern: "/api/v1/orders/:reservationId/pay",
    command: payCommand,
    body: payBodySchema,
    input: ([reservationId], body) => ({ ...body, reservationId }),
    response: orderSchema,
    respond: (r) => r,
  });
}
