import { ROLES, type Role } from "../protocol/index.ts";

/**
 * Who may do what in a room. Roles come from a signed token, so these checks run on the server
 * for every host and moderator action; the client's view of its role is only cosmetic.
 */
export { ROLES, type Role };

/** The part of a token's claims these checks read. */
export interface RoomGrant {
  readonly role: Role;
  /** Rooms a host owns or a moderator moderates; ignored for viewers and admins. */
  readonly rooms: readonly string[];
}

/** Moderator of the room, host of the room, or admin. */
export function canModerate(claims: RoomGrant, room: string): boolean {
  switch (claims.role) {
    case "admin":
      return true;
    case "moderator":
    case "host":
      return claims.rooms.includes(room);
    case "viewer":
      return false;
  }
}

/** Host of the room, or admin. */
export function canHost(claims: RoomGrant, room: string): boolean {
  switch (claims.role) {
    case "admin":
      return true;
    case "host":
      return claims.rooms.includes(room);
    case "moderator":
    case "viewer":
      return false;
  }
}
