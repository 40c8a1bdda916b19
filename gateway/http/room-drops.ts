import { validate } from "../../core/index.ts";
import { roomDropsQuerySchema, roomDropsResponseSchema, roomIdSchema } from "../../protocol/index.ts";
import { parseQuery } from "./query.ts";
import { sendJson } from "./respond.ts";
import type { ApiRouter } from "./router.ts";

/**
 * GET /api/v1/rooms/:room/drops?after=&limit= → `{drops, next}`: every drop of a room, ended ones
 * included, in drop-id order, a page at a time. Room snapshots on the socket carry the active
 * drops only (bounded); a client that wants the rest (a past-drops list) pages through here.
 */
export function registerRoomDropsRoute(router: ApiRouter): void {
  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/drops",
    name: "room.drops",
    access: { who: "anyone" },
    lanes: "any",
    response: roomDropsResponseSchema,
    handler: async ({ params, query, lane, g }) => {
      const room = validate(roomIdSchema, params[0], "room id");
      const { after, limit } = parseQuery(roomDropsQuerySchema, query, "drops page");
      const ids = (await lane.engine.dropsInRoom(room)).sort();
      const from = after === undefined ? 0 : ids.findIndex((id) => id > after);
      const page = from < 0 ? [] : ids.slice(from, from + limit);
      const drops = await Promise.all(page.map((id) => lane.engine.status(id)));
      const more = from >= 0 && from + limit < ids.length;
      sendJson(g, 200, { room, drops, next: more ? (page.at(-1) ?? null) : null });
    },
  });
}
