/**
 * A buy refusal the drop card shows until the drop says otherwise. The engine's answer is newer
 * than the stock frames still on their way, so a "sold out" answer stands until stock comes back:
 * a frame with more units than the fewest seen since the answer (a restock, a released hold).
 * Frames of holds placed before the answer only show stock going down and keep it. A per-user
 * limit stands for the drop.
 */
export interface BuyRefusal {
  readonly dropId: string;
  readonly code: string;
  /** The fewest units a frame showed since the refusal (the card's count when it came). */
  readonly floor: number;
}

/** The refusal after the drop showed `available` units: kept, lowered, or gone. */
export function followStock(r: BuyRefusal | undefined, dropId: string, available: number) {
  if (!r || r.dropId !== dropId || r.code === "LIMIT_EXCEEDED") return r;
  if (available > r.floor) return undefined;
  return available < r.floor ? { ...r, floor: available } : r;
}
