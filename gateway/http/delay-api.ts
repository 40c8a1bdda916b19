import { validate } from "../../core/index.ts";
import { roomDelayResponseSchema, roomIdSchema } from "../../protocol/index.ts";
import type { Access, RoomLookup } from "../commands/index.ts";
import { roomDelayOf, summarize } from "../rooms/room-delay.ts";
import { sendJson } from "./respond.ts";
import type { ApiRouter } from "./router.ts";

/** A moderator or host of the room named in the path (or an admin). */
const staffOfRoomParam: Access = {
  who: "moderator",
  room: (r: RoomLookup) => validate(roomIdSchema, r.input[0], "room id"),
};

/**
 * GET /api/v1/rooms/:room/delay → the room's playback delays over every gateway node and the
 * fair window they imply: what the host console shows, and what `fairWindowMs: "auto"` takes.
 */
export function registerDelayApi(router: ApiRouter): void {
  router.route({
    method: "get",
    pattern: "/api/v1/rooms/:room/delay",
    name: "room.delay",
    access: staffOfRoomParam,
    lanes: "any",
    response: roomDelayResponseSchema,
    handler: async ({ params, lane, g }) => {
      const room = validate(roomIdSchema, params[0], "room id");
      const reader = roomDelayOf(lane.engine);
      sendJson(g, 200, summarize(room, await reader.histogram(room), reader.settings));
    },
  });
}
