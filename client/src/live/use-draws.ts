import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { DropMeResponse, DropSnapshot, ServerFrame } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import type { LiveConnection } from "../shared/connection.ts";
import {
  applyAck,
  applyDrawFrame,
  applyMe,
  applyTicket,
  type DrawState,
  emptyDraws,
} from "../shared/draw-state.ts";
import type { DropView } from "../shared/room-state.ts";
import type { EntryAck, Hold } from "./drop-card.tsx";

/** Fewest ms between two reads of a waiting ticket's place in line (GET …/me). */
const TICKET_REFRESH_MS = 2_000;
/**
 * A restore that failed (a busy or rate-limiting gateway right at the draw) is tried again this
 * much later, times the attempt, up to RESTORE_RETRY_MAX_MS between tries, for as long as the page
 * lives: a viewer who reloaded must not be left without their result.
 */
const RESTORE_RETRY_MS = 1_000;
const RESTORE_RETRY_MAX_MS = 5_000;

/**
 * The buyer's draws and waitlist tickets in the room. A won entry or an offered hold becomes a
 * hold (the normal pay flow); after each join or resume the server's own view
 * (GET /api/v1/drops/:dropId/me) restores what frames missed while the socket was down, an
 * auction's hold at the buyer's own price included.
 */
export function useDraws(
  conn: LiveConnection,
  token: () => Promise<string>,
  drops: { readonly current: ReadonlyMap<string, DropView> },
  onHold: (h: Hold) => void,
) {
  const [draws, setDraws] = useState<DrawState>(emptyDraws);
  const latest = useRef(draws);
  const hold = useRef(onHold);
  hold.current = onHold;
  // Holds already handed to the page: a restore after a reconnect does not bring back a closed one.
  const given = useRef(new Set<string>());

  const update = useCallback((fn: (s: DrawState) => DrawState) => {
    const next = fn(latest.current);
    if (next === latest.current) return;
    latest.current = next;
    setDraws(next);
  }, []);

  const give = useCallback(
    (
      d: DropSnapshot | undefined,
      reservationId: string,
      qty: number,
      deadline: number,
      via: Hold["via"],
      priceMinor?: number,
    ) => {
      if (!d || given.current.has(reservationId)) return;
      given.current.add(reservationId);
      hold.current({
        reservationId,
        dropId: d.dropId,
        qty,
        deadline,
        priceMinor: priceMinor ?? d.product.priceMinor,
        currency: d.product.currency,
        title: d.product.title,
        ...(via ? { via } : {}),
      });
    },
    [drops],
  );

  useEffect(() => {
    const restore = async (d: DropSnapshot) => {
      const me = await api<DropMeResponse>(`/api/v1/drops/${encodeURIComponent(d.dropId)}/me`, {
        token: await token(),
      });
      update((s) => applyMe(s, me));
      for (const e of me.entries) {
        // A winner's hold runs from the allocation: its deadline is allocatedAt + holdMs.
        const at = drops.current.get(d.dropId)?.fair?.allocatedAt ?? d.fair?.allocatedAt;
        if (e.status === "won" && e.reservationId && at != null)
          give(d, e.reservationId, e.granted, at + d.holdMs, "draw");
      }
      // An auction settled while the page was away: its `auctionHold` frame was missed.
      const won = me.auctionHold;
      if (won) give(d, won.reservationId, 1, won.deadline, undefined, won.priceMinor);
    };
    // A waiting ticket's place moves when units are freed (stock frames): ask again, at most once per interval.
    const asked = new Map<string, number>();
    const later = new Map<string, ReturnType<typeof setTimeout>>();
    const refreshTicket = (dropId: string) => {
      const d = drops.current.get(dropId);
      if (!d || latest.current.tickets.get(dropId)?.status !== "waiting" || later.has(dropId)) return;
      const wait = (asked.get(dropId) ?? 0) + TICKET_REFRESH_MS - Date.now();
      later.set(
        dropId,
        setTimeout(
          () => {
            later.delete(dropId);
            asked.set(dropId, Date.now());
            restore(d).catch(() => undefined);
          },
          Math.max(0, wait),
        ),
      );
    };
    let stopped = false;
    const restoreSoon = (d: DropSnapshot, attempt = 1) => {
      restore(d).catch(() => {
        if (!stopped)
          setTimeout(
            () => restoreSoon(d, attempt + 1),
            Math.min(RESTORE_RETRY_MS * attempt, RESTORE_RETRY_MAX_MS),
          );
      });
    };
    const restoreAll = (all: Iterable<DropSnapshot>) => {
      for (const d of all)
        if (d.fair || d.waitlist || latest.current.tickets.has(d.dropId) || isAuction(d)) restoreSoon(d);
    };
    const onFrame = (f: ServerFrame) => {
      if (f.t === "entry") {
        update((s) => applyDrawFrame(s, f));
        if (f.status === "won" && f.reservationId && f.deadline !== undefined)
          give(drops.current.get(f.dropId), f.reservationId, f.granted, f.deadline, "draw");
      } else if (f.t === "offer") {
        update((s) => applyDrawFrame(s, f));
        give(drops.current.get(f.dropId), f.reservationId, f.qty, f.deadline, f.via);
      } else if (f.t === "joined" || f.t === "resync") restoreAll(f.drops);
      else if (f.t === "resumed") restoreAll(drops.current.values());
      else if (f.t === "stock") refreshTicket(f.dropId);
      else if (f.t === "drop") refreshTicket(f.drop.dropId);
    };
    const off = conn.onFrame(onFrame);
    return () => {
      off();
      stopped = true;
      for (const timer of later.values()) clearTimeout(timer);
    };
  }, [conn, token, drops, update, give]);

  return {
    draws,
    onEntered: useCallback((r: EntryAck) => update((s) => applyAck(s, r)), [update]),
    onTicket: useCallback(
      (r: { dropId: string; ticket: number; position: number }) => update((s) => applyTicket(s, r)),
      [update],
    ),
  };
}

/** An auction's unit may be held unpaid by this buyer (won, or handed on) whatever the drop's state says. */
function isAuction(d: DropSnapshot): boolean {
  return d.format === "auction";
}
