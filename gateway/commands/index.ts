/** The command layer: every action once, with its input, rule, handler and result. */
export {
  type Access,
  authorize,
  authorizeCaller,
  type CommandLane,
  chooseLane,
  type Lane,
  type LaneChoice,
  type Lanes,
  type RoomLookup,
} from "./access.ts";
export {
  auctionHistoryLengthOf,
  auctionOpenCommand,
  auctionsOf,
  bidCommand,
  configureAuctions,
} from "./auction.ts";
export { buyCommand } from "./buy.ts";
export { chatPostCommand, moderateCommand } from "./chat.ts";
export { type Command, type CommandContext, runCommand } from "./command.ts";
export {
  couponClaimCommand,
  couponListCommand,
  couponPinCommand,
  couponsOf,
  couponUnpinCommand,
  registerCouponRoomLog,
  roomIsLive,
} from "./coupon.ts";
export {
  createDropCommand,
  DROP_CONTROLS,
  endCommand,
  launchCommand,
  pauseCommand,
  pinCommand,
  restockCommand,
  resumeCommand,
  unpinCommand,
} from "./drop-controls.ts";
export { payCommand } from "./pay.ts";
export { AccessRefusal, type RefusalCode } from "./refusal.ts";
export { waitlistCommand } from "./waitlist.ts";
