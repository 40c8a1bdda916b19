import { ErrorCode, LivedropError } from "../core/index.ts";

/**
 * Giveaways: a raffle at price 0 (format `giveaway`) whose winners must be in the room when it is
 * drawn. The deployment passes `eligibleAtDraw` to the engine (the gateway answers it from room
 * presence); without it every entrant is eligible.
 */

/** Of `userIds`, those in room `roomId` now. May throw: the draw then waits for a later pass. */
export type EligibleAtDraw = (roomId: string, userIds: readonly string[]) => Promise<Set<string>>;

/**
 * A giveaway draw's presence argument for lua/allocate.lua: one character per entry in draw
 * order, '1' when its user is eligible, '0' when absent (the script skips it). Undefined without
 * a callback (nobody is skipped). Each user is asked about once, however many entries they have.
 */
export async function presenceFlags(
  eligible: EligibleAtDraw | undefined,
  roomId: string,
  usersInDrawOrder: readonly string[],
): Promise<string | undefined> {
  if (!eligible) return undefined;
  let present: Set<string>;
  try {
    present = await eligible(roomId, [...new Set(usersInDrawOrder)]);
  } catch (cause) {
    throw new LivedropError(ErrorCode.UNAVAILABLE, "room presence could not be read for a giveaway's draw", {
      reason: PRESENCE_UNAVAILABLE,
      roomId,
      cause: cause instanceof Error ? cause.message : String(cause),
    });
  }
  return usersInDrawOrder.map((user) => (present.has(user) ? "1" : "0")).join("");
}

/** `details.reason` of the UNAVAILABLE error a failed presence check raises. */
export const PRESENCE_UNAVAILABLE = "PRESENCE_UNAVAILABLE";

/** True for the error presenceFlags raises when the eligibility callback failed. */
export function isPresenceUnavailable(err: unknown): boolean {
  return err instanceof LivedropError && err.details?.reason === PRESENCE_UNAVAILABLE;
}
