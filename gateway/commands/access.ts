import type { Claims } from "../../auth/index.ts";
import { canHost, canModerate } from "../../auth/index.ts";
import type { Checkout, OrderStore } from "../../orders/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { AccessRefusal } from "./refusal.ts";

/** The engine, store and checkout one caller's requests go to: the live lane or the shadow one. */
export interface Lane {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly checkout: Checkout;
  /**
   * Counts a buy click (or, with "entry", a buy a drop's draw took as an entry) for the ops funnel;
   * absent on lanes kept out of analytics (shadow).
   */
  readonly countBuy?: ((dropId: string, kind?: "click" | "entry") => void) | undefined;
}

/** What commands use of a lane (a WebSocket connection has no order store). */
export type CommandLane = Pick<Lane, "engine" | "checkout" | "countBuy">;

/** What a room resolver may read: the route's path parameters, or a command's input, and the lane. */
export interface RoomLookup<I = readonly string[], L = Lane> {
  readonly input: I;
  readonly lane: L;
}

/**
 * Who may call a route or command. Every one declares one; `authorize` enforces it before the
 * handler runs, so a handler never checks a role itself and a new one cannot forget to.
 * - `anyone`: no token needed. A token, when sent, must be valid (and picks the caller's lane).
 * - `signed-in`: any valid token.
 * - `host`: a host of the room acted on, or an admin; `room` finds that room.
 * - `moderator`: a moderator or host of that room, or an admin.
 * - `admin`: admins only.
 */
export type Access<I = readonly string[], L = Lane> =
  | { readonly who: "anyone" }
  | { readonly who: "signed-in" }
  | {
      readonly who: "host" | "moderator";
      readonly room: (r: RoomLookup<I, L>) => string | Promise<string>;
    }
  | { readonly who: "admin" };

/**
 * Which traffic a route or command serves. `any`: live callers get the live lane, shadow
 * (load-test) callers the shadow lane. `live`: live data or operator state that has no shadow
 * twin (ops overview, live room figures, the kill switch): shadow tokens are refused.
 */
export type Lanes = "any" | "live";

export interface LaneChoice {
  readonly live: Lane;
  readonly shadow: Lane | undefined;
  /** The kill switch: false refuses every shadow request. */
  readonly shadowEnabled: () => boolean;
}

/**
 * The lane rule, one for everything: a shadow claim goes to the shadow lane, or is refused with
 * SHADOW_DISABLED while the kill switch is off (whatever the token's role, admin included), or
 * with FORBIDDEN where only live traffic is served. The claim is signed: a caller cannot pick
 * its lane.
 */
export function chooseLane(lanes: Lanes, claims: Claims | undefined, c: LaneChoice): Lane {
  if (!claims?.shadow) return c.live;
  if (!c.shadow || !c.shadowEnabled())
    throw new AccessRefusal("SHADOW_DISABLED", "shadow (load-test) traffic is switched off");
  if (lanes === "live")
    throw new AccessRefusal(
      "FORBIDDEN",
      "this route serves live traffic only, not shadow (load-test) tokens",
    );
  return c.shadow;
}

/** The part of the role rule that needs no input: a token, and the admin role where asked. */
export function authorizeCaller(access: Access<never, never>, claims: Claims | undefined): void {
  if (access.who === "anyone") return;
  if (!claims) throw new AccessRefusal("UNAUTHORIZED", "send Authorization: Bearer <token>");
  if (access.who === "admin" && claims.role !== "admin") throw new AccessRefusal("FORBIDDEN", "admins only");
}

/** The role rule: refuses (UNAUTHORIZED without a token, FORBIDDEN with the wrong one) unless `access` allows. */
export async function authorize<I, L>(
  access: Access<I, L>,
  claims: Claims | undefined,
  lookup: RoomLookup<I, L>,
): Promise<void> {
  authorizeCaller(access as Access<never, never>, claims);
  if (!claims || (access.who !== "host" && access.who !== "moderator")) return;
  const room = await access.room(lookup);
  if (access.who === "host" && !canHost(claims, room))
    throw new AccessRefusal("FORBIDDEN", `only a host of room ${room} may do this`);
  if (access.who === "moderator" && !canModerate(claims, room))
    throw new AccessRefusal("FORBIDDEN", `only a moderator or host of room ${room} may do this`);
}
