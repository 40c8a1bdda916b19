import type { ServerFrame } from "../../protocol/index.ts";

/** The frames coalesced per drop: stock counts, and an auction's standing. */
type PacedFrame = Extract<ServerFrame, { t: "stock" | "auction" }>;

/** Per drop, at most one stock (and one auction) frame per STOCK_INTERVAL_MS; per room, one toast per TOAST_INTERVAL_MS. */
export const STOCK_INTERVAL_MS = 200;
export const TOAST_INTERVAL_MS = 500;

/**
 * Paces the high-rate frames of a flash sale. Stock updates are coalesced per drop: the newest
 * counts replace older ones still waiting (every frame carries the full counts, and a resume
 * replays the complete log). Purchase toasts are sampled. Drop frames are never paced; a drop
 * frame supersedes the drop's waiting stock frame (it carries newer counts). Auction frames are
 * paced the same way (each carries the full standing: leader, price, end, bid count).
 */
export class RoomPacer {
  private readonly waitingStock = new Map<string, PacedFrame>();
  private readonly stockTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastToast = new Map<string, number>();

  constructor(private readonly flush: (room: string, frame: PacedFrame) => void) {}

  stock(frame: PacedFrame): void {
    const key = pacedKey(frame.t, frame.room, frame.dropId);
    if (this.stockTimers.has(key)) {
      this.waitingStock.set(key, frame);
      return;
    }
    // The first change after a quiet spell goes out at once; later ones wait for the interval.
    this.flush(frame.room, frame);
    this.stockTimers.set(
      key,
      setTimeout(() => this.release(key), STOCK_INTERVAL_MS),
    );
  }

  /** A drop frame (or an auction's end) for `dropId` is going out: its waiting frame is stale. */
  superseded(room: string, dropId: string, t: PacedFrame["t"] = "stock"): void {
    this.waitingStock.delete(pacedKey(t, room, dropId));
  }

  /** Whether a purchase toast may go out in `room` now. */
  toastAllowed(room: string, now = Date.now()): boolean {
    if (now - (this.lastToast.get(room) ?? 0) < TOAST_INTERVAL_MS) return false;
    this.lastToast.set(room, now);
    return true;
  }

  close(): void {
    for (const timer of this.stockTimers.values()) clearTimeout(timer);
    this.stockTimers.clear();
  }

  private release(key: string): void {
    const waiting = this.waitingStock.get(key);
    this.waitingStock.delete(key);
    if (!waiting) {
      this.stockTimers.delete(key);
      return;
    }
    this.flush(waiting.room, waiting);
    this.stockTimers.set(
      key,
      setTimeout(() => this.release(key), STOCK_INTERVAL_MS),
    );
  }
}

const pacedKey = (t: PacedFrame["t"], room: string, dropId: string) => `${t}\u0000${room}\u0000${dropId}`;

/** What the room sees of a buyer: never the user id, only a masked hint. */
export function buyerHint(userId: string): string {
  return `${userId.slice(0, 2)}***`;
}
