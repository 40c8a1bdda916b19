import { type Claims, canHost } from "../../auth/index.ts";
import type { Checkout, OrderStore } from "../../orders/index.ts";
import type { SaleEngine } from "../../sale-engine/index.ts";
import { HttpRefusal } from "./handler.ts";

/** The engine, store and checkout one caller's requests go to: the live lane or the shadow one. */
export interface Lane {
  readonly engine: SaleEngine;
  readonly store: OrderStore;
  readonly checkout: Checkout;
}

/** What a room resolver may read: the route's path parameters and the caller's lane. */
export interface RoomLookup {
  readonly params: readonly string[];
  readonly lane: Lane;
}

/**
 * Who may call a route. Every route declares one; the router enforces it before the handler
 * runs, so a handler never checks a role itself and a new route cannot forget to.
 * - `anyone`: no token needed. A token, when sent, must be valid (and picks the caller's lane).
 * - `signed-in`: any valid token.
 * - `host`: a host of the room the route acts on, or an admin; `room` finds that room.
 * - `admin`: admins only.
 */
export type Access =
  | { readonly who: "anyone" }
  | { readonly who: "signed-in" }
  | { readonly who: "host"; readonly room: (r: RoomLookup) => string | Promise<string> }
  | { readonly who: "admin" };

/**
 * Which traffic a route serves. `any`: live callers get the live lane, shadow (load-test) callers
 * the shadow lane. `live`: the route reads or changes live data or operator state that has no
 * shadow twin (ops overview, live room figures, the kill switch): shadow tokens are refused.
 */
export type Lanes = "any" | "live";

export interface LaneChoice {
  readonly live: Lane;
  readonly shadow: Lane | undefined;
  /** The kill switch: false refuses every shadow request. */
  readonly shadowEnabled: () => boolean;
}

/**
 * The lane rule, one for every route: a shadow claim goes to the shadow lane, or is refused with
 * SHADOW_DISABLED while the kill switch is off (whatever the token's role, admin included), or
 * with FORBIDDEN on live-only routes. The claim is signed: a request cannot pick its lane.
 */
export function chooseLane(lanes: Lanes, claims: Claims | undefined, c: LaneChoice): Lane {
  if (!claims?.shadow) return c.live;
  if (!c.shadow || !c.shadowEnabled())
    throw new HttpRefusal(403, "SHADOW_DISABLED", "shadow (load-test) traffic is switched off");
  if (lanes === "live")
    throw new HttpRefusal(
      403,
      "FORBIDDEN",
      "this route serves live traffic only, not shadow (load-test) tokens",
    );
  return c.shadow;
}

/** The role rule: refuses (401 without a token, 403 with the wrong one) unless `access` allows. */
export async function authorize(
  access: Access,
  claims: Claims | undefined,
  lookup: RoomLookup,
): Promise<void> {
  if (access.who === "anyone") return;
  if (!claims) throw new HttpRefusal(401, "UNAUTHORIZED", "send Authorization: Bearer <token>");
  switch (access.who) {
    case "signed-in":
      return;
    case "admin":
      if (claims.role !== "admin") throw new HttpRefusal(403, "FORBIDDEN", "admins only");
      return;
    case "host": {
      const room = await access.room(lookup);
      if (!canHost(claims, room))
        throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${room} may do this`);
      return;
    }
  }
}
