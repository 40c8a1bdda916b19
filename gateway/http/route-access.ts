import { validate } from "../../core/index.ts";
import { dropIdSchema, roomIdSchema } from "../../protocol/index.ts";
import type { Access, RoomLookup } from "../commands/index.ts";

/** Host access to the room named in the path. */
export const hostOfRoomParam: Access = {
  who: "host",
  room: (r: RoomLookup) => validate(roomIdSchema, r.input[0], "room id"),
};

/** Host access to the room of the drop named in the path (read from the caller's lane). */
export const hostOfDropParam: Access = {
  who: "host",
  room: async (r: RoomLookup) =>
    (await r.lane.engine.status(validate(dropIdSchema, r.input[0], "drop id"))).roomId,
};
