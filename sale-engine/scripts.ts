import { type LuaCommands, luaCommands } from "../core/index.ts";

/** The sale engine's scripts in `lua/`, each prefixed with `lua/_prelude.lua`. */
export const registerScripts = luaCommands(new URL("./lua/", import.meta.url), {
  ldCreate: { file: "create", keys: 3 },
  ldReserve: { file: "reserve", keys: 6 },
  ldConfirm: { file: "confirm", keys: 5 },
  ldRelease: { file: "release", keys: 5 },
  ldExpire: { file: "expire", keys: 5 },
  ldRestock: { file: "restock", keys: 5 },
  ldTransition: { file: "transition", keys: 3 },
  ldStatus: { file: "status", keys: 1 },
  ldIndexRetire: { file: "index-retire", keys: 2 },
  ldIndexRepair: { file: "index-repair", keys: 2 },
  ldEraseUser: { file: "erase-user", keys: 6 },
  ldEraseAuction: { file: "erase-auction", keys: 2 },
  ldEraseBids: { file: "erase-bids", keys: 3 },
  ldEraseCoupon: { file: "erase-coupon", keys: 1 },
  ldAllocate: { file: "allocate", keys: 6 },
  ldWaitlist: { file: "waitlist", keys: 1 },
  ldAuctionOpen: { file: "auction-open", keys: 4 },
  ldAuctionBid: { file: "auction-bid", keys: 6 },
  ldAuctionSettle: { file: "auction-settle", keys: 7 },
  ldPin: { file: "pin", keys: 3 },
  ldCouponPin: { file: "coupon-pin", keys: 2 },
  ldCouponUnpin: { file: "coupon-unpin", keys: 2 },
  ldCouponClaim: { file: "coupon-claim", keys: 1 },
  ldCouponApply: { file: "coupon-apply", keys: 1 },
  ldCouponSettle: { file: "coupon-settle", keys: 1 },
});

export type ScriptCommands = LuaCommands<
  | "ldCreate"
  | "ldReserve"
  | "ldConfirm"
  | "ldRelease"
  | "ldExpire"
  | "ldRestock"
  | "ldTransition"
  | "ldStatus"
  | "ldIndexRetire"
  | "ldIndexRepair"
  | "ldEraseUser"
  | "ldEraseAuction"
  | "ldEraseBids"
  | "ldEraseCoupon"
  | "ldAllocate"
  | "ldWaitlist"
  | "ldAuctionOpen"
  | "ldAuctionBid"
  | "ldAuctionSettle"
  | "ldPin"
  | "ldCouponPin"
  | "ldCouponUnpin"
  | "ldCouponClaim"
  | "ldCouponApply"
  | "ldCouponSettle"
>;
export type { ScriptReply } from "../core/index.ts";
